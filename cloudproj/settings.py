"""Settings, all from environment variables (django-environ).

With nothing set, the cloud runs on one machine on embedded defaults: SQLite under
STATE_PATH and kombu's filesystem transport as the broker (no server process needed).
Production sets DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (RabbitMQ or Redis); so does
`make run` as root, for the private PostgreSQL and Redis it starts (in CLOUD_DIR/env).
"""
import re
import socket
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from cloudproj import task_names

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
#: Where `make run` keeps the admin's credentials (openrc, clouds.yaml, admin-password) and generated values
#: (SECRET_KEY in `CLOUD_DIR/env`, which this module reads; real environment variables win over that file).
CLOUD_DIR = Path(env.str("CLOUD_DIR", default=str(BASE_DIR / ".cloud")))
_LOCAL_ENV_FILE = CLOUD_DIR / "env"
if _LOCAL_ENV_FILE.exists():
    environ.Env.read_env(_LOCAL_ENV_FILE, overwrite=False)

#: The root of the local state: the SQLite database and filesystem broker of the embedded defaults, instances,
#: images, networks, volumes.
STATE_PATH = Path(env.str("STATE_PATH", default=str(CLOUD_DIR / "state")))

#: Django's secret key (sessions, CSRF); `make run` generates one into `CLOUD_DIR/env`; set it in every
#: deployment.
SECRET_KEY = env.str("SECRET_KEY", default="insecure-dev-key-set-SECRET_KEY-in-production")
#: Django's debug pages; never in a deployment.
DEBUG = env.bool("DEBUG", default=False)
#: Host names the API and dashboard answer to (Django's ALLOWED_HOSTS).
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"])

# --- this host ---------------------------------------------------------------------------
#: The name of this cloud on the machine (a lowercase letter, then up to 14 lowercase letters or digits): every
#: iptables chain the cloud writes is named for it (`<name>-metadata`, `<name>-vlan`, and the security-group and
#: floating chains hashed from it and the host), so clouds sharing a machine (`make run`, `make conformance`, the
#: tests) never touch each other's rules; `./manage.py host_teardown` removes exactly this cloud's.
CLOUD_NAME = env.str("CLOUD_NAME", default="cloudproj")
if not re.fullmatch(r"[a-z][a-z0-9]{0,14}", CLOUD_NAME):
    raise ImproperlyConfigured(
        f"CLOUD_NAME must be a lowercase letter then up to 14 lowercase letters or digits, not {CLOUD_NAME!r}")
#: This host's name: its agent consumes `compute.<host>`, `network.<host>` and `volume.<host>`; unique per host.
CLOUD_HOST = env.str("CLOUD_HOST", default=socket.gethostname())
#: The region of the service catalog and of the generated openrc and clouds.yaml.
CLOUD_REGION = env.str("CLOUD_REGION", default="RegionOne")
#: The availability zone of compute services that name none.
DEFAULT_AVAILABILITY_ZONE = env.str("DEFAULT_AVAILABILITY_ZONE", default="nova")
#: The zone listed for services other than nova-compute (Nova's internal_service_availability_zone).
INTERNAL_SERVICE_AVAILABILITY_ZONE = env.str("INTERNAL_SERVICE_AVAILABILITY_ZONE", default="internal")
#: Base URL clients use to reach the API (e.g. a reverse proxy's); the catalog, console URLs and generated openrc
#: are built from it; empty: the host and port each request came in on.
PUBLIC_ENDPOINT = env.str("PUBLIC_ENDPOINT", default="")
#: Seconds an EC2 request's signed time (X-Amz-Date, Timestamp) may differ from this server's clock; a request
#: (or a replay of one) older than that is refused with RequestExpired.
EC2_CLOCK_SKEW = env.int("EC2_CLOCK_SKEW", default=300)
#: The address `make run`'s API + dashboard listens on.
API_BIND = env.str("API_BIND", default="0.0.0.0")
#: The port `make run`'s API + dashboard listens on.
API_PORT = env.int("API_PORT", default=8774)
#: Threads per API process running Django's views under the ASGI server.
API_THREADS = env.int("API_THREADS", default=8)
#: `make run` as root starts a private PostgreSQL and Redis of its own (data under CLOUD_DIR) unless DATABASE_URL /
#: CELERY_BROKER_URL are set; false (or not root): SQLite and the filesystem broker, the embedded fallback.
RUN_PRIVATE_SERVICES = env.bool("RUN_PRIVATE_SERVICES", default=True)
#: The port (on 127.0.0.1) of `make run`'s private PostgreSQL.
RUN_POSTGRES_PORT = env.int("RUN_POSTGRES_PORT", default=15432)
#: The port (on 127.0.0.1) of `make run`'s private Redis, its Celery broker.
RUN_REDIS_PORT = env.int("RUN_REDIS_PORT", default=16379)
#: The port `make run`'s flower listens on.
FLOWER_PORT = env.int("FLOWER_PORT", default=5555)
#: The address `make run`'s flower listens on (behind basic auth, credentials in `CLOUD_DIR/flower-auth`).
FLOWER_BIND = env.str("FLOWER_BIND", default="127.0.0.1")
#: The dashboard's admin "Task monitor" link; empty: http(s)://<the dashboard's host>:FLOWER_PORT/.
FLOWER_URL = env.str("FLOWER_URL", default="")

#: The hypervisor the agent drives: `qemu:///system` for real guests, `test:///default` (or `test:///<node XML>`)
#: to simulate a host.
LIBVIRT_URI = env.str("LIBVIRT_URI", default="qemu:///system")
#: Live migration: the libvirt URI other hosts' agents open to move a guest to this host (e.g.
#: `qemu+tcp://compute2/system`); empty: LIBVIRT_URI (only right when both hosts share this machine).
LIVE_MIGRATION_URI = env.str("LIVE_MIGRATION_URI", default="")
#: Live migration: the address this host's QEMU receives a guest's memory and disk on (`tcp://<it>`);
#: empty: libvirt's choice (this host's hostname).
LIVE_MIGRATION_ADDRESS = env.str("LIVE_MIGRATION_ADDRESS", default="")
#: Domain type of real guests: `kvm`, or `qemu` (TCG) where KVM is unusable.
VIRT_TYPE = env.str("VIRT_TYPE", default="qemu")

#: Seconds between the services' heartbeats (seeds: --report_interval).
REPORT_INTERVAL = env.float("REPORT_INTERVAL", default=10.0)
#: A service whose last heartbeat is older than this many seconds is down (seeds: --service_down_time).
SERVICE_DOWN_TIME = env.float("SERVICE_DOWN_TIME", default=60.0)

# --- instances, images and networks on the hosts -----------------------------------------
#: Per-host instance directories (disk overlays, console.log) and the image cache `_base/`.
INSTANCES_PATH = Path(env.str("INSTANCES_PATH", default=str(STATE_PATH / "instances")))
IMAGE_CACHE_PATH = INSTANCES_PATH / "_base"  # per-host cache of image bases, by sha1
#: The image store, a filesystem every API process and agent shares.
IMAGE_STORE_PATH = Path(env.str("IMAGE_STORE_PATH", default=str(STATE_PATH / "images")))
#: Seconds without data after which an image upload is dead (the reaper kills the image).
IMAGE_UPLOAD_MAX_IDLE = env.float("IMAGE_UPLOAD_MAX_IDLE", default=600.0)
#: The largest image an upload may store, in bytes (Glance's 1 TiB).
IMAGE_SIZE_CAP = env.int("IMAGE_SIZE_CAP", default=1024**4)
# Agents remove cached bases no instance of their host uses: off (0) by default; when on,
# every IMAGE_CACHE_CLEANUP_INTERVAL seconds, bases unused for IMAGE_CACHE_MIN_AGE seconds.
#: Agents remove cached image bases no instance of their host uses every this many seconds; 0: never.
IMAGE_CACHE_CLEANUP_INTERVAL = env.float("IMAGE_CACHE_CLEANUP_INTERVAL", default=0.0)
#: A cached base unused for this many seconds may be removed by the cleanup.
IMAGE_CACHE_MIN_AGE = env.float("IMAGE_CACHE_MIN_AGE", default=86400.0)
#: Where each network's dnsmasq files (hosts, leases, pid) live.
NETWORKS_PATH = Path(env.str("NETWORKS_PATH", default=str(STATE_PATH / "networks")))
# --- volumes (the seeds' --volume_driver, --volume_group) ------------------------------------
#: `file` (qemu-img files under VOLUMES_PATH) or `lvm` (logical volumes in VOLUME_GROUP); seeds: --volume_driver.
VOLUME_DRIVER = env.str("VOLUME_DRIVER", default="file")
#: File driver: where volume files live.
VOLUMES_PATH = Path(env.str("VOLUMES_PATH", default=str(STATE_PATH / "volumes")))
#: File driver: `raw` or `qcow2`.
VOLUME_FILE_FORMAT = env.str("VOLUME_FILE_FORMAT", default="raw")
#: File driver: capacity the host reports to the scheduler; 0: the filesystem's size.
VOLUME_FILE_CAPACITY_GB = env.int("VOLUME_FILE_CAPACITY_GB", default=0)
#: LVM driver: the volume group (seeds: --volume_group).
VOLUME_GROUP = env.str("VOLUME_GROUP", default="nova-volumes")
#: LVM driver: false writes LVM metadata only (`--driverloaded n`), for hosts without device-mapper.
VOLUME_LVM_ACTIVATE = env.bool("VOLUME_LVM_ACTIVATE", default=True)
#: Wipe a volume on delete: `zero` or `none`.
VOLUME_CLEAR = env.str("VOLUME_CLEAR", default="zero")
#: Wipe only the first N MB of a deleted volume; 0: the whole volume.
VOLUME_CLEAR_SIZE_MB = env.int("VOLUME_CLEAR_SIZE_MB", default=0)
#: Seconds between an agent's volume capacity reports to the scheduler.
VOLUME_REPORT_INTERVAL = env.float("VOLUME_REPORT_INTERVAL", default=60.0)
#: Seconds a guest has to let go of a detached volume.
VOLUME_DETACH_TIMEOUT = env.float("VOLUME_DETACH_TIMEOUT", default=30.0)
#: Seconds the API waits for the host to attach a volume.
VOLUME_ATTACH_TIMEOUT = env.float("VOLUME_ATTACH_TIMEOUT", default=60.0)
#: Seconds a server booting from a new volume waits for the volume host to write the image into it.
BOOT_VOLUME_TIMEOUT = env.float("BOOT_VOLUME_TIMEOUT", default=180.0)
#: A volume attached to a server on another host is exported over iSCSI by `tgt`; `none`: such attachments are
#: refused.
VOLUME_EXPORT = env.str("VOLUME_EXPORT", default="tgt")
#: Prefix of the exported targets' IQNs (the seeds' prefix).
ISCSI_IQN_PREFIX = env.str("ISCSI_IQN_PREFIX", default="iqn.2010-10.org.openstack:")
#: The iSCSI portal address of this volume host; empty: this host's address.
ISCSI_IP_ADDRESS = env.str("ISCSI_IP_ADDRESS", default="")
#: The iSCSI portal port.
ISCSI_PORT = env.int("ISCSI_PORT", default=3260)
#: `tgtadm -C`: the control port of the tgtd that manages the exports.
TGT_CONTROL_PORT = env.int("TGT_CONTROL_PORT", default=0)
# --- networks (the seeds' --network_manager and its flags) ---------------------------------
#: The dnsmasq program the agents run, one per network bridge.
DNSMASQ_BINARY = env.str("DNSMASQ_BINARY", default="dnsmasq")
#: dnsmasq-utils' dhcp_release: a deleted instance's lease is released at once (DHCPRELEASE to the
#: network's dnsmasq); when it is not installed the orphan pass drops such leases (a dnsmasq restart).
DHCP_RELEASE_BINARY = env.str("DHCP_RELEASE_BINARY", default="dhcp_release")
#: The bridge of a network created without one, and of the default network `private`.
FLAT_NETWORK_BRIDGE = env.str("FLAT_NETWORK_BRIDGE", default="br100")
#: The host interface put into the bridge of a network created without `--bridge_interface`; empty: none.
FLAT_INTERFACE = env.str("FLAT_INTERFACE", default="")
#: The CIDR of the default network `private` that `make run` (bootstrap) creates.
FIXED_RANGE = env.str("FIXED_RANGE", default="10.0.0.0/24")
#: Seconds between an agent's checks of its bridges, dnsmasq processes and metadata rules.
NETWORK_SUPERVISE_INTERVAL = env.float("NETWORK_SUPERVISE_INTERVAL", default=30.0)
#: Seconds between an agent's rewrites of its security-group chains and floating NAT from the DB (hand-made
#: changes go).
FIREWALL_RESYNC_INTERVAL = env.float("FIREWALL_RESYNC_INTERVAL", default=60.0)
#: How an agent enforces security groups, as Nova's firewall_driver: `iptables`, or `noop` (Nova's
#: NoopFirewallDriver: no chains are written, where something else filters, or on simulated hosts sharing one
#: machine's iptables).
FIREWALL_DRIVER = env.str("FIREWALL_DRIVER", default="iptables")
if FIREWALL_DRIVER not in ("iptables", "noop"):
    raise ImproperlyConfigured(f"FIREWALL_DRIVER must be iptables or noop, not {FIREWALL_DRIVER!r}")
#: The seeds' --network_manager: `flatdhcp` (one shared network, dnsmasq), `flat` (no DHCP: the address goes on
#: the guest's kernel command line) or `vlan` (a network, bridge and 802.1Q device per project, taken on first
#: use from those `network create --vlan_start N --num_networks K` made).
NETWORK_MANAGER = env.str("NETWORK_MANAGER", default="flatdhcp")
#: VLAN manager: the interface the 802.1Q devices go on.
VLAN_INTERFACE = env.str("VLAN_INTERFACE", default="eth0")
#: VLAN manager: the first vlan id of `network create`.
VLAN_START = env.int("VLAN_START", default=100)
#: VLAN manager: the bridge of vlan N is <prefix>N.
VLAN_BRIDGE_PREFIX = env.str("VLAN_BRIDGE_PREFIX", default="br")
#: VLAN manager: the 802.1Q device of vlan N is <prefix>N.
VLAN_DEVICE_PREFIX = env.str("VLAN_DEVICE_PREFIX", default="vlan")
#: VLAN manager: filter chain, jumped to first from FORWARD, that refuses forwarding between VLAN bridges;
#: empty: `<CLOUD_NAME>-vlan`.
VLAN_ISOLATION_CHAIN = env.str("VLAN_ISOLATION_CHAIN", default="")
# The metadata service (nova-api-metadata, `gunicorn metadata.wsgi`); guests reach it at
# 169.254.169.254:80 through a DNAT to METADATA_HOST:METADATA_PORT on each serving host.
#: The address the metadata service (`gunicorn metadata.wsgi`) listens on.
METADATA_BIND = env.str("METADATA_BIND", default="0.0.0.0")
#: The port of the metadata service.
METADATA_PORT = env.int("METADATA_PORT", default=8775)
#: Where guests' 169.254.169.254:80 is sent (DNAT); empty: each network's gateway address on its bridge.
METADATA_HOST = env.str("METADATA_HOST", default="")
# Floating IPs: the public interface a NAT host puts them on (seeds: --public_interface), the
# pool `POST /os-floating-ips` uses without one, and the prefix of a host's nat chains
# <prefix>-pre/-out/-post ("": cpfip-<6 hex of the cloud's and host's hash>, one set per host of a machine).
#: The public interface a NAT host puts floating IPs on (seeds: --public_interface); a range's `--interface`
#: wins.
FLOATING_INTERFACE = env.str("FLOATING_INTERFACE", default="eth0")
#: The pool of a floating IP allocation that names none (`make run` sets it to `public`).
DEFAULT_FLOATING_POOL = env.str("DEFAULT_FLOATING_POOL", default="nova")
#: Every new server gets a floating IP of DEFAULT_FLOATING_POOL, released with it (seeds:
#: --auto_assign_floating_ip).
AUTO_ASSIGN_FLOATING_IP = env.bool("AUTO_ASSIGN_FLOATING_IP", default=False)
#: Prefix of a host's floating NAT chains <prefix>-pre/-out/-post; empty: cpfip-<6 hex of the hash of CLOUD_NAME
#: and the host>, one set per host and cloud of a machine.
FLOATING_CHAIN_PREFIX = env.str("FLOATING_CHAIN_PREFIX", default="")
#: `make run` only: the range of the pool DEFAULT_FLOATING_POOL it creates on its first start (TEST-NET-3, which
#: no real network uses); empty: none. Refused when this machine has an address or route in it.
RUN_FLOATING_RANGE = env.str("RUN_FLOATING_RANGE", default="203.0.113.16/28")
#: `make run` only: the link (a dummy, else an empty bridge; created when root) that carries that pool's addresses; empty: the NAT
#: host's FLOATING_INTERFACE.
RUN_FLOATING_INTERFACE = env.str("RUN_FLOATING_INTERFACE", default="cpfloat0")

# --- scheduler (the seeds' and Nova's defaults) -------------------------------------------
#: `filter` (filters and weighers), `chance` (a random live host) or the dotted path of a scheduler class.
SCHEDULER_DRIVER = env.str("SCHEDULER_DRIVER", default="filter")
#: The filter scheduler's host filters, dotted class paths in order.
SCHEDULER_FILTERS = env.list(
    "SCHEDULER_FILTERS",
    default=[
        "compute.scheduler.filters.retry.RetryFilter",
        "compute.scheduler.filters.compute.ComputeFilter",
        "compute.scheduler.filters.availability_zone.AvailabilityZoneFilter",
        "compute.scheduler.filters.ram.RamFilter",
        "compute.scheduler.filters.core.CoreFilter",
        "compute.scheduler.filters.disk.DiskFilter",
        "compute.scheduler.filters.image_properties.ImagePropertiesFilter",
        "compute.scheduler.filters.num_instances.NumInstancesFilter",
        "compute.scheduler.filters.affinity.SameHostFilter",
        "compute.scheduler.filters.affinity.DifferentHostFilter",
        "compute.scheduler.filters.server_group.ServerGroupAntiAffinityFilter",
        "compute.scheduler.filters.server_group.ServerGroupAffinityFilter",
        "compute.scheduler.filters.aggregates.AggregateInstanceExtraSpecsFilter",
        "compute.scheduler.filters.aggregates.AggregateMultiTenancyIsolation",
    ],
)
#: The filter scheduler's weighers, dotted class paths.
SCHEDULER_WEIGHERS = env.list(
    "SCHEDULER_WEIGHERS",
    default=[
        "compute.scheduler.weighers.ram.RamWeigher", "compute.scheduler.weighers.num_instances.NumInstancesWeigher",
        "compute.scheduler.weighers.server_group.ServerGroupSoftAffinityWeigher",
        "compute.scheduler.weighers.server_group.ServerGroupSoftAntiAffinityWeigher",
    ],
)
#: Virtual CPUs per physical CPU the scheduler allows.
CPU_ALLOCATION_RATIO = env.float("CPU_ALLOCATION_RATIO", default=16.0)
#: Guest RAM per MB of host RAM the scheduler allows.
RAM_ALLOCATION_RATIO = env.float("RAM_ALLOCATION_RATIO", default=1.5)
#: Guest disk per GB of host disk the scheduler allows.
DISK_ALLOCATION_RATIO = env.float("DISK_ALLOCATION_RATIO", default=1.0)
#: MB of each host's RAM kept from the guests.
RESERVED_HOST_MEMORY_MB = env.int("RESERVED_HOST_MEMORY_MB", default=512)
#: MB of each host's disk kept from the guests.
RESERVED_HOST_DISK_MB = env.int("RESERVED_HOST_DISK_MB", default=0)
#: NumInstancesFilter: the most instances on one host.
MAX_INSTANCES_PER_HOST = env.int("MAX_INSTANCES_PER_HOST", default=50)
#: RamWeigher: positive spreads guests onto the hosts with the most free RAM, negative stacks them.
RAM_WEIGHT_MULTIPLIER = env.float("RAM_WEIGHT_MULTIPLIER", default=1.0)
#: NumInstancesWeigher: negative prefers hosts with fewer instances.
NUM_INSTANCES_WEIGHT_MULTIPLIER = env.float("NUM_INSTANCES_WEIGHT_MULTIPLIER", default=-1.0)
#: ServerGroupSoftAffinityWeigher: weight of a soft-affinity group's members on a host (above 2,
#: it outweighs the RAM and instance-count weighers at their default multipliers, so the group packs).
SOFT_AFFINITY_WEIGHT_MULTIPLIER = env.float("SOFT_AFFINITY_WEIGHT_MULTIPLIER", default=2.5)
#: ServerGroupSoftAntiAffinityWeigher: weight against a soft-anti-affinity group's members on a host.
SOFT_ANTI_AFFINITY_WEIGHT_MULTIPLIER = env.float("SOFT_ANTI_AFFINITY_WEIGHT_MULTIPLIER", default=2.5)
#: Hosts a boot is tried on before the server goes to ERROR (failed steps reschedule).
SCHEDULER_MAX_ATTEMPTS = env.int("SCHEDULER_MAX_ATTEMPTS", default=3)
#: Hosts the filter scheduler reads per placement, narrowed and ranked in SQL first (Nova's
#: max_placement_results); 0 reads every host (compute/scheduler/candidates.py).
SCHEDULER_MAX_CANDIDATES = env.int("SCHEDULER_MAX_CANDIDATES", default=200)
# --- instances on the hosts -----------------------------------------------------------------
#: Seconds for a new domain to be running.
SPAWN_TIMEOUT = env.float("SPAWN_TIMEOUT", default=60.0)
#: Soft reboot: seconds to wait for the guest's ACPI shutdown before a hard one.
REBOOT_TIMEOUT = env.float("REBOOT_TIMEOUT", default=120.0)
#: The os-stop action: seconds for a clean shutdown before the domain is destroyed.
SHUTDOWN_TIMEOUT = env.float("SHUTDOWN_TIMEOUT", default=60.0)
#: Resize: the scheduler may pick the server's own host for the new flavor (Nova's
#: allow_resize_to_same_host); off, a resize needs another host with room.
ALLOW_RESIZE_TO_SAME_HOST = env.bool("ALLOW_RESIZE_TO_SAME_HOST", default=False)
#: Resize: seconds a server stays in VERIFY_RESIZE before it is confirmed automatically
#: (Nova's resize_confirm_window); 0: never, the user confirms or reverts.
RESIZE_CONFIRM_WINDOW = env.float("RESIZE_CONFIRM_WINDOW", default=0.0)
#: Shelve: offload a shelved server at once (domain, files and capacity claim released, as
#: Nova's shelved_offload_time 0); off, it stays SHELVED on its host until shelveOffload.
SHELVE_OFFLOAD_IMMEDIATELY = env.bool("SHELVE_OFFLOAD_IMMEDIATELY", default=True)
#: Seconds a deleted server stays SOFT_DELETED (powered off, its addresses, disk and quota
#: kept; the `restore` action brings it back) before it is reclaimed; 0: deletes are final at
#: once (Nova's reclaim_instance_interval).
RECLAIM_INSTANCE_INTERVAL = env.int("RECLAIM_INSTANCE_INTERVAL", default=0)
#: The most bytes of a guest's console log one console output request carries.
CONSOLE_OUTPUT_MAX_BYTES = env.int("CONSOLE_OUTPUT_MAX_BYTES", default=64 * 1024)
# --- VNC consoles --------------------------------------------------------------------------
#: The address guests' VNC servers listen on (Nova's vncserver_listen); a console proxy on another host needs
#: 0.0.0.0 or this host's address.
VNC_LISTEN = env.str("VNC_LISTEN", default="127.0.0.1")
#: The address the console proxy reaches this host's VNC servers at (Nova's vncserver_proxyclient_address).
VNC_PROXYCLIENT_ADDRESS = env.str("VNC_PROXYCLIENT_ADDRESS", default="127.0.0.1")
#: Seconds a console URL stays valid.
CONSOLE_TOKEN_TTL = env.int("CONSOLE_TOKEN_TTL", default=600)
#: Host names besides the site's own (Origin's host = Host) whose pages may open console websockets (Nova's
#: console allowed_origins).
CONSOLE_ALLOWED_ORIGINS = env.list("CONSOLE_ALLOWED_ORIGINS", default=[])
# --- reconciliation (beat fans each pass out to the live hosts; 0 = off) --------------------
#: Seconds between power-state syncs of every live host, as Nova's _sync_power_states; 0: off.
SYNC_POWER_STATE_INTERVAL = env.float("SYNC_POWER_STATE_INTERVAL", default=600.0)
#: What to do with a domain whose instance is deleted: `noop`, `log`, `shutdown` (destroy) or `reap` (destroy,
#: undefine, remove the disk); destructive passes are opt-in.
RUNNING_DELETED_ACTION = env.str("RUNNING_DELETED_ACTION", default="log")
#: Seconds between the running-deleted passes; 0: off.
RUNNING_DELETED_INTERVAL = env.float("RUNNING_DELETED_INTERVAL", default=1800.0)
#: Seconds after the delete before a running-deleted domain is acted on.
RUNNING_DELETED_TIMEOUT = env.float("RUNNING_DELETED_TIMEOUT", default=0.0)
#: Seconds between passes removing leaked fixed/floating IPs, stale DHCP leases and chains; 0: off.
ORPHAN_CLEANUP_INTERVAL = env.float("ORPHAN_CLEANUP_INTERVAL", default=600.0)
#: Seconds between quota usage recounts from the live rows; 0: off.
QUOTA_REFRESH_INTERVAL = env.float("QUOTA_REFRESH_INTERVAL", default=3600.0)
#: Nova's instance_build_timeout: a server in BUILD (or deleting) this many seconds after it began goes to ERROR
#: with a fault (a delete is finished or retried); 0: off.
BUILD_TIMEOUT = env.float("BUILD_TIMEOUT", default=900.0)
#: Seconds between the reaper's passes over stuck builds and deletes.
BUILD_TIMEOUT_CHECK_INTERVAL = env.float("BUILD_TIMEOUT_CHECK_INTERVAL", default=60.0)
#: A build that has not moved for this many seconds with no step running lost its step message (a broker killed
#: between handing it out and recording it): the reaper sends it again; 0: off.
BUILD_STEP_RESEND_AFTER = env.float("BUILD_STEP_RESEND_AFTER", default=300.0)
#: A build no scheduler has started (its API died between commit and publish, or a killed scheduler held its
#: message) is sent to the scheduler again after this many seconds without a change; 0: off.
BUILD_SCHEDULE_RESEND_AFTER = env.float("BUILD_SCHEDULE_RESEND_AFTER", default=30.0)
#: A boot step its agent died in is run again when the agent starts, at most this many times; then the attempt
#: is rolled back and rescheduled (a step that kills its agent).
BUILD_STEP_RESUMES = env.int("BUILD_STEP_RESUMES", default=2)
# --- tests only ------------------------------------------------------------------------------
# TEST-ONLY fault injection (compute/services/fault_injection.py): names of pipeline points
# (schedule, allocate_ip, fetch_image, spawn, terminate, or an action: reboot, stop...) where
# a worker writes a marker file in FAULT_INJECT_DIR and then sleeps until it is killed or the
# file is removed. Empty (the default) = off; never set in a deployment.
#: TEST ONLY: pipeline points (schedule, allocate_ip, fetch_image, spawn, terminate, or an action: reboot,
#: stop...) where a worker writes a marker file and sleeps until killed; never set in a deployment.
FAULT_INJECT_PAUSE = env.list("FAULT_INJECT_PAUSE", default=[])
#: TEST ONLY: where FAULT_INJECT_PAUSE's marker files go.
FAULT_INJECT_DIR = env.str("FAULT_INJECT_DIR", default="")

# --- identity ----------------------------------------------------------------------------
#: Lifetime of an identity token, seconds.
TOKEN_EXPIRATION = env.int("TOKEN_EXPIRATION", default=3600)
# failed password logins (tokens, dashboard, admin site) lock a user out, as the seeds' EC2 API:
# LOCKOUT_ATTEMPTS failures (0: never) within LOCKOUT_WINDOW minutes lock it for LOCKOUT_MINUTES
#: Failed password logins of one user (tokens, dashboard, admin site) within LOCKOUT_WINDOW that lock it out; 0:
#: never (the seeds' --lockout_attempts).
LOCKOUT_ATTEMPTS = env.int("LOCKOUT_ATTEMPTS", default=5)
#: How long a locked-out user stays locked, minutes.
LOCKOUT_MINUTES = env.int("LOCKOUT_MINUTES", default=15)
#: The window, in minutes, in which failed logins are counted.
LOCKOUT_WINDOW = env.int("LOCKOUT_WINDOW", default=15)
DEFAULT_DOMAIN_ID = "default"
DEFAULT_DOMAIN_NAME = "Default"

# --- quotas (seed defaults, overridable per deployment here, per project in the DB) ------
QUOTA_DEFAULTS = {
    #: Default quota: instances per project.
    "instances": env.int("QUOTA_INSTANCES", default=10),
    #: Default quota: vCPUs per project.
    "cores": env.int("QUOTA_CORES", default=20),
    #: Default quota: MB of RAM per project.
    "ram": env.int("QUOTA_RAM", default=51200),
    #: Default quota: volumes per project.
    "volumes": env.int("QUOTA_VOLUMES", default=10),
    #: Default quota: GB of volumes and snapshots per project.
    "gigabytes": env.int("QUOTA_GIGABYTES", default=1000),
    #: Default quota: volume snapshots per project.
    "snapshots": env.int("QUOTA_SNAPSHOTS", default=10),
    #: Default quota: floating IPs per project.
    "floating_ips": env.int("QUOTA_FLOATING_IPS", default=10),
    #: Default quota: fixed IPs per project; -1: unlimited.
    "fixed_ips": env.int("QUOTA_FIXED_IPS", default=-1),
    #: Default quota: metadata items per server.
    "metadata_items": env.int("QUOTA_METADATA_ITEMS", default=128),
    #: Default quota: injected files per server.
    "injected_files": env.int("QUOTA_INJECTED_FILES", default=5),
    #: Default quota: bytes of one injected file.
    "injected_file_content_bytes": env.int("QUOTA_INJECTED_FILE_CONTENT_BYTES", default=10240),
    #: Default quota: bytes of an injected file's path.
    "injected_file_path_bytes": env.int("QUOTA_INJECTED_FILE_PATH_BYTES", default=255),
    #: Default quota: key pairs per user.
    "key_pairs": env.int("QUOTA_KEY_PAIRS", default=100),
    #: Default quota: security groups per project.
    "security_groups": env.int("QUOTA_SECURITY_GROUPS", default=10),
    #: Default quota: rules per security group.
    "security_group_rules": env.int("QUOTA_SECURITY_GROUP_RULES", default=20),
    #: Default quota: server groups per project.
    "server_groups": env.int("QUOTA_SERVER_GROUPS", default=10),
    #: Default quota: servers per server group.
    "server_group_members": env.int("QUOTA_SERVER_GROUP_MEMBERS", default=10),
}
#: Seconds after which an unfinished quota reservation is rolled back.
RESERVATION_EXPIRE = env.int("RESERVATION_EXPIRE", default=86400)

# --- Django ------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "django_celery_beat",
    "django_celery_results",
    "identity",
    "compute",
    "network",
    "volumes",
    "images",
    "secgroups",
    "floating",
    "metadata",
    "consoles",
    "ec2",
    "django_htmx",
    "dashboard",
]

MIDDLEWARE = [
    "cloudproj.middleware.RequestIdMiddleware",
    "cloudproj.observability.middleware.MetricsMiddleware",
    "cloudproj.observability.middleware.AccessLogMiddleware",
    "cloudproj.middleware.RejectNulMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "cloudproj.urls"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dashboard.context_processors.dashboard",
            ],
        },
    },
]

WSGI_APPLICATION = "cloudproj.wsgi.application"

DATABASES = {
    #: The database, e.g. `postgres://user:pw@db:5432/cloud`; default: SQLite under STATE_PATH.
    "default": env.db(
        "DATABASE_URL", default=f"sqlite:///{STATE_PATH / 'cloud.sqlite3'}"
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Several processes (API, workers, beat) share the file: wait for locks instead of failing.
    # A deferred transaction that reads and then writes gets "database is locked" at once when
    # another process writes (SQLite cannot wait there without deadlocking): take the write
    # lock at BEGIN instead, and let readers go on beside the writer (WAL).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=30, transaction_mode="IMMEDIATE",
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    )
else:
    #: PostgreSQL: seconds a database connection is kept (health-checked before reuse).
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=0))
    # A kept connection that died with a database restart is replaced at the next request
    # instead of failing it: the API recovers by itself once PostgreSQL is back.
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DATABASES["default"].setdefault("TEST", {})

AUTH_USER_MODEL = "identity.User"
AUTHENTICATION_BACKENDS = ["identity.services.backends.LockoutModelBackend"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "/dashboard/login/"
#: How often an instances page asks for its changed rows (and a volumes or images page with one changing reloads its lists).
DASHBOARD_POLL_SECONDS = env.float("DASHBOARD_POLL_SECONDS", default=2.0)
#: Rows per dashboard table page for a user who has not chosen a page size in their settings (5 to 200).
DASHBOARD_PAGE_SIZE = env.int("DASHBOARD_PAGE_SIZE", default=50)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# whitenoise serves the admin's static files straight from the apps (no collectstatic step);
# set STATIC_ROOT and run collectstatic to serve a collected copy instead.
#: Where `collectstatic` puts the static files to serve a collected copy; empty: whitenoise serves them from the
#: apps.
STATIC_ROOT = env.str("STATIC_ROOT", default="") or None
WHITENOISE_USE_FINDERS = True
# noVNC comes from its npm release (package.json; `make deps` runs `npm ci`), served at
# static/novnc/ where the console page's vnc.js imports novnc/core/rfb.js.
STATICFILES_DIRS = [("novnc", BASE_DIR / "node_modules" / "@novnc" / "novnc")]

# --- REST API ----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["identity.api.authentication.KeystoneTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["identity.api.authentication.IsAuthenticatedWithToken"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["cloudproj.api.parsers.StrictJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "cloudproj.api.negotiation.EmptyAcceptMeansAny",
    "EXCEPTION_HANDLER": "cloudproj.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "cloudproj.api.schema.JsonDocumentSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "cloudproj API",
    "DESCRIPTION": "OpenStack-compatible Identity v3, Compute v2.1, Image v2 and Block Storage v3.",
    "VERSION": "2.1",
}

# --- Celery ------------------------------------------------------------------------------
#: The broker, e.g. `amqp://guest:guest@mq:5672//` or `redis://mq:6379/0`; default: kombu's filesystem transport
#: under STATE_PATH/broker.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost//")
BROKER_DATA_PATH = STATE_PATH / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DATA_PATH / "queue"),
        "data_folder_out": str(BROKER_DATA_PATH / "queue"),
        "control_folder": str(BROKER_DATA_PATH / "control"),
        "processed_folder": str(BROKER_DATA_PATH / "processed"),
        "store_processed": False,
        "polling_interval": 0.05,
    }
else:
    # Redis: a message taken by a worker that was killed (-9) before acking is given to
    # another consumer only after visibility_timeout seconds (kombu's default is an hour).
    # Tasks ack late (cloudproj/celery.py), so a killed step is redelivered after this
    # long; it must exceed the longest task (a spawn, a snapshot upload). Pipeline steps
    # tolerate a duplicate delivery. RabbitMQ redelivers as soon as the connection drops.
    # (kombu looks for such messages about every 100 s.)
    #: Redis broker: a message a killed worker took is redelivered after this many seconds; longer than the
    #: longest task.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.float("BROKER_VISIBILITY_TIMEOUT", default=900.0)}
#: Sending while the broker is down retries this many seconds, then the API answers 503 and rolls the request
#: back.
BROKER_PUBLISH_RETRY_TIMEOUT = env.float("BROKER_PUBLISH_RETRY_TIMEOUT", default=30.0)
# Results are kept only for the few calls that wait for an answer from a host (console
# output, domain listings): those tasks set ignore_result=False. The database backend works
# with every broker, the embedded one included.
#: Where the results of the few calls that wait for a host's answer (console output, domain listings) are kept.
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="django-db")
CELERY_TASK_IGNORE_RESULT = True
#: Seconds those results are kept.
CELERY_RESULT_EXPIRES = env.int("CELERY_RESULT_EXPIRES", default=3600)
#: Seconds to wait for a host's answer to a call (console URL, console output).
HOST_CALL_TIMEOUT = env.float("HOST_CALL_TIMEOUT", default=15.0)
#: Run every task in the caller instead of through the broker (Celery's task_always_eager); debugging only.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Periodic tasks; django-celery-beat's DatabaseScheduler copies these into its tables, where
# operators can change them in the Django admin. Intervals in seconds.
CELERY_BEAT_SCHEDULE = {
    "expire-quota-reservations": {
        "task": task_names.EXPIRE_QUOTA_RESERVATIONS,
        #: Beat: seconds between passes rolling back expired quota reservations.
        "schedule": env.float("RESERVATION_EXPIRY_INTERVAL", default=300.0),
        "options": {"queue": "scheduler"},
    },
    "reap-stalled-image-uploads": {
        "task": task_names.REAP_STALLED_IMAGE_UPLOADS,
        #: Beat: seconds between passes killing image uploads idle past IMAGE_UPLOAD_MAX_IDLE.
        "schedule": env.float("IMAGE_UPLOAD_REAP_INTERVAL", default=300.0),
        "options": {"queue": "scheduler"},
    },
    "purge-expired-tokens": {
        "task": task_names.PURGE_EXPIRED_TOKENS,
        #: Beat: seconds between purges of expired identity tokens.
        "schedule": env.float("TOKEN_PURGE_INTERVAL", default=3600.0),
        "options": {"queue": "scheduler"},
    },
    "purge-expired-console-tokens": {
        "task": task_names.PURGE_EXPIRED_CONSOLE_TOKENS,
        #: Beat: seconds between purges of expired console tokens.
        "schedule": env.float("CONSOLE_TOKEN_PURGE_INTERVAL", default=600.0),
        "options": {"queue": "scheduler"},
    },
    "reap-stuck-builds": {
        "task": task_names.REAP_STUCK_BUILDS,
        "schedule": BUILD_TIMEOUT_CHECK_INTERVAL,
        "options": {"queue": "scheduler"},
    },
}
if RESIZE_CONFIRM_WINDOW > 0:  # the automatic confirm looks a few times per window
    CELERY_BEAT_SCHEDULE["confirm-expired-resizes"] = {
        "task": task_names.CONFIRM_EXPIRED_RESIZES, "schedule": max(5.0, min(60.0, RESIZE_CONFIRM_WINDOW / 4)),
        "options": {"queue": "scheduler"},
    }
# Reconciliation: one entry per pass whose interval is > 0 (compute/services/periodic_hosts.py)
for _name, _task, _args, _interval in (
    ("sync-power-states", task_names.FAN_OUT_HOST_TASK, ["sync_power_states"], SYNC_POWER_STATE_INTERVAL),
    ("running-deleted-instances", task_names.FAN_OUT_HOST_TASK, ["running_deleted"], RUNNING_DELETED_INTERVAL),
    ("network-orphans", task_names.FAN_OUT_HOST_TASK, ["network_orphans"], ORPHAN_CLEANUP_INTERVAL),
    ("refresh-quota-usages", task_names.REFRESH_QUOTA_USAGES, [], QUOTA_REFRESH_INTERVAL),
    # soft-deleted servers are reclaimed at most a minute late (none when the interval is 0)
    ("reclaim-soft-deleted", task_names.RECLAIM_SOFT_DELETED, [], min(RECLAIM_INSTANCE_INTERVAL, 60)),
):
    if _interval > 0:
        CELERY_BEAT_SCHEDULE[_name] = {"task": _task, "args": _args, "schedule": _interval,
                                       "options": {"queue": "scheduler"}}

# --- observability -----------------------------------------------------------------------
#: Client networks that may read GET /metrics (it needs no token).
METRICS_ALLOWED_CIDRS = env.list("METRICS_ALLOWED_CIDRS", default=["127.0.0.1/32", "::1/128"])
#: The port the scheduler and agents serve their task metrics on; 0: off.
METRICS_PORT = env.int("METRICS_PORT", default=0)
#: Where the API's gunicorn workers write their metric samples for /metrics to add up; empty:
#: cloudproj/gunicorn_conf.py makes a fresh temporary directory.
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")
#: The address the workers' task metrics listen on.
METRICS_BIND = env.str("METRICS_BIND", default="127.0.0.1")

# --- logging -----------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "cloudproj.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "cloudproj.observability.logformat.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            #: `plain` lines, or `json`: one JSON object a line.
            "formatter": env.str("LOG_FORMAT", default="plain"),
            "filters": ["request_id"],
        },
    },
    #: The root log level.
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
