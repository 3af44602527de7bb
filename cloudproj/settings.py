"""Settings, all from environment variables (django-environ).

With nothing set, the cloud runs on one machine on embedded defaults: SQLite under
STATE_PATH and kombu's filesystem transport as the broker (no server process needed).
Production sets DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (RabbitMQ or Redis).
"""
import socket
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Where `make run` keeps the admin's credentials and generated values (SECRET_KEY in `env`);
# real environment variables win over that file.
CLOUD_DIR = Path(env.str("CLOUD_DIR", default=str(BASE_DIR / ".cloud")))
_LOCAL_ENV_FILE = CLOUD_DIR / "env"
if _LOCAL_ENV_FILE.exists():
    environ.Env.read_env(_LOCAL_ENV_FILE, overwrite=False)

STATE_PATH = Path(env.str("STATE_PATH", default=str(CLOUD_DIR / "state")))

SECRET_KEY = env.str("SECRET_KEY", default="insecure-dev-key-set-SECRET_KEY-in-production")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"])

# --- this host ---------------------------------------------------------------------------
CLOUD_HOST = env.str("CLOUD_HOST", default=socket.gethostname())
CLOUD_REGION = env.str("CLOUD_REGION", default="RegionOne")
DEFAULT_AVAILABILITY_ZONE = env.str("DEFAULT_AVAILABILITY_ZONE", default="nova")
INTERNAL_SERVICE_AVAILABILITY_ZONE = env.str("INTERNAL_SERVICE_AVAILABILITY_ZONE", default="internal")
# Base URL clients use to reach the API; the catalog is built from it. Empty means
# "whatever host and port the request came in on".
PUBLIC_ENDPOINT = env.str("PUBLIC_ENDPOINT", default="")
API_BIND = env.str("API_BIND", default="0.0.0.0")
API_PORT = env.int("API_PORT", default=8774)
API_THREADS = env.int("API_THREADS", default=8)  # per API process: threads running Django's views
FLOWER_PORT = env.int("FLOWER_PORT", default=5555)
# The dashboard's "Task monitor" link; empty: http(s)://<the dashboard's host>:FLOWER_PORT/
FLOWER_URL = env.str("FLOWER_URL", default="")

LIBVIRT_URI = env.str("LIBVIRT_URI", default="qemu:///system")
VIRT_TYPE = env.str("VIRT_TYPE", default="qemu")

# Seeds: --report_interval 10, --service_down_time 60.
REPORT_INTERVAL = env.float("REPORT_INTERVAL", default=10.0)
SERVICE_DOWN_TIME = env.float("SERVICE_DOWN_TIME", default=60.0)

# --- instances, images and networks on the hosts -----------------------------------------
INSTANCES_PATH = Path(env.str("INSTANCES_PATH", default=str(STATE_PATH / "instances")))
IMAGE_CACHE_PATH = INSTANCES_PATH / "_base"  # per-host cache of image bases, by sha1
IMAGE_STORE_PATH = Path(env.str("IMAGE_STORE_PATH", default=str(STATE_PATH / "images")))
IMAGE_UPLOAD_MAX_IDLE = env.float("IMAGE_UPLOAD_MAX_IDLE", default=600.0)  # s without data: upload dead
IMAGE_SIZE_CAP = env.int("IMAGE_SIZE_CAP", default=1024**4)  # bytes an upload may store (Glance: 1 TiB)
# Agents remove cached bases no instance of their host uses: off (0) by default; when on,
# every IMAGE_CACHE_CLEANUP_INTERVAL seconds, bases unused for IMAGE_CACHE_MIN_AGE seconds.
IMAGE_CACHE_CLEANUP_INTERVAL = env.float("IMAGE_CACHE_CLEANUP_INTERVAL", default=0.0)
IMAGE_CACHE_MIN_AGE = env.float("IMAGE_CACHE_MIN_AGE", default=86400.0)
NETWORKS_PATH = Path(env.str("NETWORKS_PATH", default=str(STATE_PATH / "networks")))  # dnsmasq files
# --- volumes (the seeds' --volume_driver, --volume_group) ------------------------------------
VOLUME_DRIVER = env.str("VOLUME_DRIVER", default="file")  # "file" (qemu-img files) or "lvm"
VOLUMES_PATH = Path(env.str("VOLUMES_PATH", default=str(STATE_PATH / "volumes")))  # file driver
VOLUME_FILE_FORMAT = env.str("VOLUME_FILE_FORMAT", default="raw")  # raw or qcow2
VOLUME_FILE_CAPACITY_GB = env.int("VOLUME_FILE_CAPACITY_GB", default=0)  # 0: the filesystem's size
VOLUME_GROUP = env.str("VOLUME_GROUP", default="nova-volumes")  # lvm driver
VOLUME_LVM_ACTIVATE = env.bool("VOLUME_LVM_ACTIVATE", default=True)  # False: metadata only (no device-mapper)
VOLUME_CLEAR = env.str("VOLUME_CLEAR", default="zero")  # wipe on delete: zero or none
VOLUME_CLEAR_SIZE_MB = env.int("VOLUME_CLEAR_SIZE_MB", default=0)  # 0: the whole volume
VOLUME_REPORT_INTERVAL = env.float("VOLUME_REPORT_INTERVAL", default=60.0)  # agent: capacity for the scheduler
VOLUME_DETACH_TIMEOUT = env.float("VOLUME_DETACH_TIMEOUT", default=30.0)  # seconds for the guest to let go
VOLUME_ATTACH_TIMEOUT = env.float("VOLUME_ATTACH_TIMEOUT", default=60.0)  # the API waits for the host
# A volume attached to a server on another host is exported over iSCSI by tgt ("none": refused)
VOLUME_EXPORT = env.str("VOLUME_EXPORT", default="tgt")
ISCSI_IQN_PREFIX = env.str("ISCSI_IQN_PREFIX", default="iqn.2010-10.org.openstack:")  # the seeds' prefix
ISCSI_IP_ADDRESS = env.str("ISCSI_IP_ADDRESS", default="")  # the portal; "" = this host's address
ISCSI_PORT = env.int("ISCSI_PORT", default=3260)
TGT_CONTROL_PORT = env.int("TGT_CONTROL_PORT", default=0)  # tgtadm -C: which tgtd manages the exports
DNSMASQ_BINARY = env.str("DNSMASQ_BINARY", default="dnsmasq")
FLAT_NETWORK_BRIDGE = env.str("FLAT_NETWORK_BRIDGE", default="br100")
FLAT_INTERFACE = env.str("FLAT_INTERFACE", default="")
FIXED_RANGE = env.str("FIXED_RANGE", default="10.0.0.0/24")  # the default network of `make run`
NETWORK_SUPERVISE_INTERVAL = env.float("NETWORK_SUPERVISE_INTERVAL", default=30.0)  # agent: dnsmasq/bridges
# agent: security-group chains and floating NAT rewritten from the DB (hand-made changes go)
FIREWALL_RESYNC_INTERVAL = env.float("FIREWALL_RESYNC_INTERVAL", default=60.0)
# agent: how security groups are enforced, as Nova's firewall_driver: "iptables", or "noop"
# (Nova's NoopFirewallDriver: the host writes no chains, where something else filters, or on
# simulated hosts that share one machine's iptables)
FIREWALL_DRIVER = env.str("FIREWALL_DRIVER", default="iptables")
if FIREWALL_DRIVER not in ("iptables", "noop"):
    raise ImproperlyConfigured(f"FIREWALL_DRIVER must be iptables or noop, not {FIREWALL_DRIVER!r}")
# Network manager (the seeds' --network_manager): "flatdhcp" (one shared network, dnsmasq),
# "vlan" (a network, subnet and bridge per project, assigned on first use from the networks
# `network create --vlan_start N --num_networks K` made; 802.1Q device VLAN_DEVICE_PREFIX<N> on
# VLAN_INTERFACE where the kernel has it), "flat" (accepted, not implemented yet: behaves as flatdhcp).
NETWORK_MANAGER = env.str("NETWORK_MANAGER", default="flatdhcp")
VLAN_INTERFACE = env.str("VLAN_INTERFACE", default="eth0")
VLAN_START = env.int("VLAN_START", default=100)
VLAN_BRIDGE_PREFIX = env.str("VLAN_BRIDGE_PREFIX", default="br")  # bridge of vlan N: <prefix>N
VLAN_DEVICE_PREFIX = env.str("VLAN_DEVICE_PREFIX", default="vlan")  # 802.1Q device of vlan N: <prefix>N
VLAN_ISOLATION_CHAIN = env.str("VLAN_ISOLATION_CHAIN", default="cloudproj-vlan")  # filter, from FORWARD
# The metadata service (nova-api-metadata, `gunicorn metadata.wsgi`); guests reach it at
# 169.254.169.254:80 through a DNAT to METADATA_HOST:METADATA_PORT on each serving host.
METADATA_BIND = env.str("METADATA_BIND", default="0.0.0.0")
METADATA_PORT = env.int("METADATA_PORT", default=8775)
METADATA_HOST = env.str("METADATA_HOST", default="")  # "": each network's gateway address on its bridge
# Floating IPs: the public interface a NAT host puts them on (seeds: --public_interface), the
# pool `POST /os-floating-ips` uses without one, and the prefix of a host's nat chains
# <prefix>-pre/-out/-post ("": cpfip-<6 hex of sha1(host)>, one set per host of a machine).
FLOATING_INTERFACE = env.str("FLOATING_INTERFACE", default="eth0")
DEFAULT_FLOATING_POOL = env.str("DEFAULT_FLOATING_POOL", default="nova")
# seeds' --auto_assign_floating_ip: each new instance gets one of DEFAULT_FLOATING_POOL
AUTO_ASSIGN_FLOATING_IP = env.bool("AUTO_ASSIGN_FLOATING_IP", default=False)
FLOATING_CHAIN_PREFIX = env.str("FLOATING_CHAIN_PREFIX", default="")

# --- scheduler (the seeds' and Nova's defaults) -------------------------------------------
SCHEDULER_DRIVER = env.str("SCHEDULER_DRIVER", default="filter")  # or "chance"
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
    ],
)
SCHEDULER_WEIGHERS = env.list(
    "SCHEDULER_WEIGHERS",
    default=["compute.scheduler.weighers.ram.RamWeigher", "compute.scheduler.weighers.num_instances.NumInstancesWeigher"],
)
CPU_ALLOCATION_RATIO = env.float("CPU_ALLOCATION_RATIO", default=16.0)
RAM_ALLOCATION_RATIO = env.float("RAM_ALLOCATION_RATIO", default=1.5)
DISK_ALLOCATION_RATIO = env.float("DISK_ALLOCATION_RATIO", default=1.0)
RESERVED_HOST_MEMORY_MB = env.int("RESERVED_HOST_MEMORY_MB", default=512)
RESERVED_HOST_DISK_MB = env.int("RESERVED_HOST_DISK_MB", default=0)
MAX_INSTANCES_PER_HOST = env.int("MAX_INSTANCES_PER_HOST", default=50)
RAM_WEIGHT_MULTIPLIER = env.float("RAM_WEIGHT_MULTIPLIER", default=1.0)  # negative: stack
NUM_INSTANCES_WEIGHT_MULTIPLIER = env.float("NUM_INSTANCES_WEIGHT_MULTIPLIER", default=-1.0)
SCHEDULER_MAX_ATTEMPTS = env.int("SCHEDULER_MAX_ATTEMPTS", default=3)
# hosts the filter scheduler reads per placement, narrowed and ranked in SQL first (Nova's
# max_placement_results); 0 reads every host (compute/scheduler/candidates.py)
SCHEDULER_MAX_CANDIDATES = env.int("SCHEDULER_MAX_CANDIDATES", default=200)
SPAWN_TIMEOUT = env.float("SPAWN_TIMEOUT", default=60.0)  # seconds for a domain to be running
REBOOT_TIMEOUT = env.float("REBOOT_TIMEOUT", default=120.0)  # soft reboot: wait for the guest's ACPI shutdown
SHUTDOWN_TIMEOUT = env.float("SHUTDOWN_TIMEOUT", default=60.0)  # os-stop: clean shutdown, then forced
CONSOLE_OUTPUT_MAX_BYTES = env.int("CONSOLE_OUTPUT_MAX_BYTES", default=64 * 1024)
# VNC consoles (Nova's vncserver_listen / vncserver_proxyclient_address): the address a
# guest's VNC server listens on, and the address the console proxy reaches this host's VNC
# servers at (a proxy on another host needs VNC_LISTEN=0.0.0.0 and this host's address here).
VNC_LISTEN = env.str("VNC_LISTEN", default="127.0.0.1")
VNC_PROXYCLIENT_ADDRESS = env.str("VNC_PROXYCLIENT_ADDRESS", default="127.0.0.1")
CONSOLE_TOKEN_TTL = env.int("CONSOLE_TOKEN_TTL", default=600)  # seconds a console URL stays valid
# A browser's console websocket must come from a page of this site (Origin's host = Host) or
# from one of these host names (Nova's console allowed_origins).
CONSOLE_ALLOWED_ORIGINS = env.list("CONSOLE_ALLOWED_ORIGINS", default=[])
# --- reconciliation (beat fans each pass out to the live hosts; 0 = off) --------------------
SYNC_POWER_STATE_INTERVAL = env.float("SYNC_POWER_STATE_INTERVAL", default=600.0)  # Nova's default
# Domains running for deleted instances: noop, log, shutdown (destroy) or reap (destroy,
# undefine, remove the disk). "log" by default: destructive periodic tasks are opt-in.
RUNNING_DELETED_ACTION = env.str("RUNNING_DELETED_ACTION", default="log")
RUNNING_DELETED_INTERVAL = env.float("RUNNING_DELETED_INTERVAL", default=1800.0)
RUNNING_DELETED_TIMEOUT = env.float("RUNNING_DELETED_TIMEOUT", default=0.0)  # s after the delete
ORPHAN_CLEANUP_INTERVAL = env.float("ORPHAN_CLEANUP_INTERVAL", default=600.0)  # leaked IPs, leases
QUOTA_REFRESH_INTERVAL = env.float("QUOTA_REFRESH_INTERVAL", default=3600.0)
# Nova's instance_build_timeout: a server still in BUILD this many seconds after it was
# created (or still deleting this long after the delete began) is settled by the reaper
# (ERROR with a fault; the delete finished or retried). 0 = off.
BUILD_TIMEOUT = env.float("BUILD_TIMEOUT", default=900.0)
BUILD_TIMEOUT_CHECK_INTERVAL = env.float("BUILD_TIMEOUT_CHECK_INTERVAL", default=60.0)  # reaper period
# A build that has not moved for this long with no step running lost its step message (a
# broker killed between handing it out and recording it): the reaper sends it again. 0 = off.
BUILD_STEP_RESEND_AFTER = env.float("BUILD_STEP_RESEND_AFTER", default=300.0)
# TEST-ONLY fault injection (compute/services/fault_injection.py): names of pipeline points
# (schedule, allocate_ip, fetch_image, spawn, terminate, or an action: reboot, stop...) where
# a worker writes a marker file in FAULT_INJECT_DIR and then sleeps until it is killed or the
# file is removed. Empty (the default) = off; never set in a deployment.
FAULT_INJECT_PAUSE = env.list("FAULT_INJECT_PAUSE", default=[])
FAULT_INJECT_DIR = env.str("FAULT_INJECT_DIR", default="")

# --- identity ----------------------------------------------------------------------------
TOKEN_EXPIRATION = env.int("TOKEN_EXPIRATION", default=3600)  # seconds
# failed password logins (tokens, dashboard, admin site) lock a user out, as the seeds' EC2 API:
# LOCKOUT_ATTEMPTS failures (0: never) within LOCKOUT_WINDOW minutes lock it for LOCKOUT_MINUTES
LOCKOUT_ATTEMPTS = env.int("LOCKOUT_ATTEMPTS", default=5)
LOCKOUT_MINUTES = env.int("LOCKOUT_MINUTES", default=15)
LOCKOUT_WINDOW = env.int("LOCKOUT_WINDOW", default=15)
DEFAULT_DOMAIN_ID = "default"
DEFAULT_DOMAIN_NAME = "Default"

# --- quotas (seed defaults, overridable per deployment here, per project in the DB) ------
QUOTA_DEFAULTS = {
    "instances": env.int("QUOTA_INSTANCES", default=10),
    "cores": env.int("QUOTA_CORES", default=20),
    "ram": env.int("QUOTA_RAM", default=51200),
    "volumes": env.int("QUOTA_VOLUMES", default=10),
    "gigabytes": env.int("QUOTA_GIGABYTES", default=1000),
    "snapshots": env.int("QUOTA_SNAPSHOTS", default=10),
    "floating_ips": env.int("QUOTA_FLOATING_IPS", default=10),
    "fixed_ips": env.int("QUOTA_FIXED_IPS", default=-1),
    "metadata_items": env.int("QUOTA_METADATA_ITEMS", default=128),
    "injected_files": env.int("QUOTA_INJECTED_FILES", default=5),
    "injected_file_content_bytes": env.int("QUOTA_INJECTED_FILE_CONTENT_BYTES", default=10240),
    "injected_file_path_bytes": env.int("QUOTA_INJECTED_FILE_PATH_BYTES", default=255),
    "key_pairs": env.int("QUOTA_KEY_PAIRS", default=100),
    "security_groups": env.int("QUOTA_SECURITY_GROUPS", default=10),
    "security_group_rules": env.int("QUOTA_SECURITY_GROUP_RULES", default=20),
    "server_groups": env.int("QUOTA_SERVER_GROUPS", default=10),
    "server_group_members": env.int("QUOTA_SERVER_GROUP_MEMBERS", default=10),
}
RESERVATION_EXPIRE = env.int("RESERVATION_EXPIRE", default=86400)  # seconds

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
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=0))
    # A kept connection that died with a database restart is replaced at the next request
    # instead of failing it: the API recovers by itself once PostgreSQL is back.
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DATABASES["default"].setdefault("TEST", {})

AUTH_USER_MODEL = "identity.User"
AUTHENTICATION_BACKENDS = ["identity.backends.LockoutModelBackend"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "/dashboard/login/"
DASHBOARD_POLL_SECONDS = env.float("DASHBOARD_POLL_SECONDS", default=2.0)  # live instance rows
DASHBOARD_PAGE_SIZE = env.int("DASHBOARD_PAGE_SIZE", default=50)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# whitenoise serves the admin's static files straight from the apps (no collectstatic step);
# set STATIC_ROOT and run collectstatic to serve a collected copy instead.
STATIC_ROOT = env.str("STATIC_ROOT", default="") or None
WHITENOISE_USE_FINDERS = True
# noVNC comes from its npm release (package.json; `make deps` runs `npm ci`), served at
# static/novnc/ where the console page's vnc.js imports novnc/core/rfb.js.
STATICFILES_DIRS = [("novnc", BASE_DIR / "node_modules" / "@novnc" / "novnc")]

# --- REST API ----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["identity.authentication.KeystoneTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["identity.authentication.IsAuthenticatedWithToken"],
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
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.float("BROKER_VISIBILITY_TIMEOUT", default=900.0)}
# Sending a message while the broker is down: retry for up to this many seconds (a broker
# restart), then give up (the API answers 503 and rolls the request back).
BROKER_PUBLISH_RETRY_TIMEOUT = env.float("BROKER_PUBLISH_RETRY_TIMEOUT", default=30.0)
# Results are kept only for the few calls that wait for an answer from a host (console
# output, domain listings): those tasks set ignore_result=False. The database backend works
# with every broker, the embedded one included.
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="django-db")
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_EXPIRES = env.int("CELERY_RESULT_EXPIRES", default=3600)
HOST_CALL_TIMEOUT = env.float("HOST_CALL_TIMEOUT", default=15.0)  # seconds to wait for a host's answer
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Periodic tasks; django-celery-beat's DatabaseScheduler copies these into its tables, where
# operators can change them in the Django admin. Intervals in seconds.
CELERY_BEAT_SCHEDULE = {
    "expire-quota-reservations": {
        "task": "identity.expire_quota_reservations",
        "schedule": env.float("RESERVATION_EXPIRY_INTERVAL", default=300.0),
        "options": {"queue": "scheduler"},
    },
    "reap-stalled-image-uploads": {
        "task": "images.reap_stalled_uploads",
        "schedule": env.float("IMAGE_UPLOAD_REAP_INTERVAL", default=300.0),
        "options": {"queue": "scheduler"},
    },
    "purge-expired-tokens": {
        "task": "identity.purge_expired_tokens",
        "schedule": env.float("TOKEN_PURGE_INTERVAL", default=3600.0),
        "options": {"queue": "scheduler"},
    },
    "purge-expired-console-tokens": {
        "task": "consoles.purge_expired_tokens",
        "schedule": env.float("CONSOLE_TOKEN_PURGE_INTERVAL", default=600.0),
        "options": {"queue": "scheduler"},
    },
    "reap-stuck-builds": {
        "task": "compute.reap_stuck_builds",
        "schedule": BUILD_TIMEOUT_CHECK_INTERVAL,
        "options": {"queue": "scheduler"},
    },
}
# Reconciliation: one entry per pass whose interval is > 0 (compute/services/periodic_hosts.py)
for _name, _task, _args, _interval in (
    ("sync-power-states", "compute.fan_out_host_task", ["sync_power_states"], SYNC_POWER_STATE_INTERVAL),
    ("running-deleted-instances", "compute.fan_out_host_task", ["running_deleted"], RUNNING_DELETED_INTERVAL),
    ("network-orphans", "compute.fan_out_host_task", ["network_orphans"], ORPHAN_CLEANUP_INTERVAL),
    ("refresh-quota-usages", "identity.refresh_quota_usages", [], QUOTA_REFRESH_INTERVAL),
):
    if _interval > 0:
        CELERY_BEAT_SCHEDULE[_name] = {"task": _task, "args": _args, "schedule": _interval,
                                       "options": {"queue": "scheduler"}}

# --- observability -----------------------------------------------------------------------
# GET /metrics answers only these client networks (it needs no token).
METRICS_ALLOWED_CIDRS = env.list("METRICS_ALLOWED_CIDRS", default=["127.0.0.1/32", "::1/128"])
# Workers (scheduler, agents) serve their task metrics on this port; 0 = off.
METRICS_PORT = env.int("METRICS_PORT", default=0)
# gunicorn's API workers write their samples here and /metrics adds them up
# (cloudproj/gunicorn_conf.py sets a fresh temporary directory when this is unset)
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")
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
            "formatter": env.str("LOG_FORMAT", default="plain"),  # plain or json
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
