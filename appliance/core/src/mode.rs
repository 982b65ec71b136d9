//! Choosing the agent's management mode.

use lqx_api::AgentMode;

/// What the operator asked for on the command line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ModeRequest {
    /// Decide from what the system looks like.
    #[default]
    Auto,
    /// Force [`AgentMode::Appliance`].
    Appliance,
    /// Force [`AgentMode::Standalone`].
    Standalone,
}

/// What the agent observed about the system it runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SystemFacts {
    /// systemd is PID 1 (`/run/systemd/system` exists).
    pub systemd_is_init: bool,
    /// The appliance's own `lqxd.service` unit is installed.
    pub agent_unit_installed: bool,
}

/// The mode in force: the operator's choice when given, otherwise
/// appliance mode only when both facts hold. A developer machine that
/// runs systemd but lacks our units must never have its networking
/// rewritten by a stray `lqxd`.
pub fn decide(request: ModeRequest, facts: SystemFacts) -> AgentMode {
    match request {
        ModeRequest::Appliance => AgentMode::Appliance,
        ModeRequest::Standalone => AgentMode::Standalone,
        ModeRequest::Auto if facts.systemd_is_init && facts.agent_unit_installed => {
            AgentMode::Appliance
        }
        ModeRequest::Auto => AgentMode::Standalone,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(systemd_is_init: bool, agent_unit_installed: bool) -> SystemFacts {
        SystemFacts {
            systemd_is_init,
            agent_unit_installed,
        }
    }

    #[test]
    fn auto_needs_both_systemd_and_our_unit() {
        assert_eq!(
            decide(ModeRequest::Auto, facts(true, true)),
            AgentMode::Appliance
        );
        assert_eq!(
            decide(ModeRequest::Auto, facts(true, false)),
            AgentMode::Standalone
        );
        assert_eq!(
            decide(ModeRequest::Auto, facts(false, true)),
            AgentMode::Standalone
        );
        assert_eq!(
            decide(ModeRequest::Auto, facts(false, false)),
            AgentMode::Standalone
        );
    }

    #[test]
    fn explicit_request_wins() {
        assert_eq!(
            decide(ModeRequest::Appliance, facts(false, false)),
            AgentMode::Appliance
        );
        assert_eq!(
            decide(ModeRequest::Standalone, facts(true, true)),
            AgentMode::Standalone
        );
    }
}
