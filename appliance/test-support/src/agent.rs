use crate::bins::workspace_bin;
use lqx_client::Client;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A real `lqxd` in standalone mode with its own state directory and
/// socket inside a temporary directory.
pub struct AgentFixture {
    dir: tempfile::TempDir,
    bin: PathBuf,
    child: Option<Child>,
    extra_args: Vec<String>,
    // Runs the agent through this command (`ip netns exec NS`), which
    // must exec it so that the child's pid is the agent's.
    prefix: Vec<String>,
}

/// How long an agent may take to answer after start.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

impl AgentFixture {
    /// Starts the workspace's `lqxd` and waits until it answers.
    pub async fn start() -> Self {
        Self::start_with(workspace_bin("lqxd"), &[]).await
    }

    /// Starts the workspace's `lqxd` as a live system's agent: installing
    /// `image`, with loop devices offered as disks.
    pub async fn start_installer(image: &Path) -> Self {
        let image = image.display().to_string();
        Self::start_with(
            workspace_bin("lqxd"),
            &["--install-image", &image, "--install-allow-loop"],
        )
        .await
    }

    /// Starts the given `lqxd` binary with extra flags.
    pub async fn start_with(bin: PathBuf, extra_args: &[&str]) -> Self {
        Self::start_through(Vec::new(), bin, extra_args).await
    }

    /// Starts the given `lqxd` binary with extra flags through `prefix`, a
    /// command that execs it (`ip netns exec NS`).
    pub async fn start_through(prefix: Vec<String>, bin: PathBuf, extra_args: &[&str]) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("lqxd-fixture-")
            .tempdir()
            .expect("temporary directory");
        let mut fixture = Self {
            dir,
            bin,
            child: None,
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
            prefix,
        };
        fixture.spawn().await;
        fixture
    }

    /// The fixture's private directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The agent's state directory.
    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// The agent's API socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("lqxd.sock")
    }

    /// File receiving the agent's stderr (appended across restarts).
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("lqxd.log")
    }

    /// The agent's log so far, for assertion messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// A client of this agent.
    pub fn client(&self) -> Client {
        Client::unix(self.socket()).with_timeout(Duration::from_secs(10))
    }

    /// The running agent's pid.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Starts the process without waiting for readiness.
    pub fn spawn_unready(&mut self) {
        assert!(self.child.is_none(), "agent already running");
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("log file");
        let mut command = match self.prefix.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(&self.bin);
                command
            }
            None => Command::new(&self.bin),
        };
        let child = command
            .arg("--state-dir")
            .arg(self.state_dir())
            .arg("--socket")
            .arg(self.socket())
            .args(["--mode", "standalone"])
            .args(&self.extra_args)
            .env_remove("NOTIFY_SOCKET")
            .env_remove("JOURNAL_STREAM")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn lqxd");
        self.child = Some(child);
    }

    async fn spawn(&mut self) {
        self.spawn_unready();
        self.wait_ready().await;
    }

    /// Waits until the agent answers `GET /v1/agent`, panicking with its
    /// log if it exits or does not answer in time.
    pub async fn wait_ready(&mut self) {
        let client = self.client().with_timeout(Duration::from_secs(2));
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if client.agent().await.is_ok() {
                return;
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!(
                    "lqxd exited with {status} before answering; log:\n{}",
                    self.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "lqxd did not answer within {READY_TIMEOUT:?}; log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends SIGKILL and reaps the process: the crash case.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM and waits for a clean exit, returning its status.
    pub fn stop(&mut self) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).ok()?);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        child.wait().ok()
    }

    /// Stops the agent (SIGTERM) and starts it again on the same state.
    pub async fn restart(&mut self) {
        self.stop();
        self.spawn().await;
    }

    /// Starts the agent again after [`AgentFixture::kill9`].
    pub async fn start_again(&mut self) {
        self.spawn().await;
    }
}

impl Drop for AgentFixture {
    fn drop(&mut self) {
        self.kill9();
    }
}
