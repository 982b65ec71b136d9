//! Wire types of the LimiQuantix host agent (`lqxd`) API.
//!
//! Everything here is what crosses the API boundary: request and response
//! bodies and the error envelope. The types carry serde and OpenAPI
//! (utoipa) derives and nothing else: no I/O and no policy, so that the
//! agent, the CLI and the console agree on one definition.

pub mod agent;
pub mod auth;
pub mod ceph;
pub mod cluster;
pub mod error;
pub mod host;
pub mod install;
pub mod journal;
pub mod labels;
pub mod network;
pub mod ovn;
pub mod ssh;
pub mod vm;
pub mod vnet;
pub mod volume;

pub use agent::{AgentInfo, AgentMode, RemoteApiInfo};
pub use auth::{AuthStatus, SetPasswordRequest, VerifyRequest};
pub use ceph::{
    CephClusterInfo, CephConfig, CephHealthCheck, CephJoinRequest, CephMon, CephPool, CephStatus,
};
pub use cluster::{
    AuthorityPem, ClusterConfig, ClusterInitRequest, ClusterStatus, EtcdRole, FORWARDED_BY_HEADER,
    JoinRequest, LeaveRequest, Member, MemberState, MemberVersions, PeerJoinRequest,
    PeerJoinResponse, PeerUrl, RemoveQuery, TARGET_HOST_HEADER, TokenCreated, TokenRequest,
};
pub use error::{ErrorBody, ErrorCode, ErrorDetail};
pub use host::{
    AddressFamily, AddressScope, CpuInfo, DefaultRoute, DnsInfo, HostFacts, HostInfo,
    InterfaceAddress, KernelInfo, LinkState, LoadAverage, MemoryInfo, NetworkInterface, OsRelease,
    PowerAction, PowerRequest,
};
pub use install::{InstallDisk, InstallInfo, InstallPhase, InstallProgress, InstallRequest};
pub use journal::{JournalLine, JournalLines, JournalQuery};
pub use labels::{Labels, LabelsPatch};
pub use network::{
    ApplyOutcome, ApplyRequest, ApplyResult, BondMode, Check, CheckStatus, Diagnostics, DnsConfig,
    Ipv4Config, Ipv6Config, LinkConfig, LinkKind, NetworkBackendKind, NetworkConfig, NetworkStatus,
    PendingApply,
};
pub use ovn::{ChassisConfig, ChassisRequest, ChassisStatus, EncapType};
pub use ssh::{AuditEvent, SshEnableRequest, SshStatus};
pub use volume::{
    CloneRequest, Snapshot, SnapshotCreate, Volume, VolumeCreate, VolumeDeleteQuery, VolumeParent,
    VolumeResize, VolumeSummary,
};

/// Path prefix of every route of version 1 of the API.
pub const API_PREFIX: &str = "/v1";
pub use vm::{
    BootDevice, CloudInit, Firmware, ForeignDomain, Pool, PoolCreate, PoolVolume, PoolVolumeCreate,
    PoolVolumeRef, PoolVolumeResize, PowerIntent, ShutdownDone, ShutdownOutcome, ShutdownRequest,
    Vm, VmCreate, VmDeleteQuery, VmDisk, VmList, VmNic, VmSpec, VmState, VmStatus, VolumeFormat,
};
pub use vnet::{
    Direction, FloatingIp, FloatingIpAssociate, FloatingIpCreate, LbProtocol, LoadBalancer,
    LoadBalancerCreate, Network, NetworkCreate, OvnCentral, Port, PortCreate, Protocol, Router,
    RouterCreate, RouterGateway, RouterNetwork, SecurityGroup, SecurityGroupCreate, SecurityRule,
    SecurityRuleCreate, VnetSync,
};
