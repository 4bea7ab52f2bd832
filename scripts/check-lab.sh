#!/usr/bin/env bash
# Checks the docker compose lab without a Docker engine (README, "Lab (docker
# compose)"):
#
#   1. docker-compose.yml: `docker-compose config -q` (docker-compose 1.29.2
#      from PyPI validates and interpolates without an engine) and
#      check-jsonschema against the current Compose Specification schema;
#   2. lab/prometheus/prometheus.yml: `promtool check config`;
#   3. the Grafana provisioning and dashboard files parse (YAML, JSON); the
#      dashboard's panels use the provisioned data source; every PromQL
#      expression parses (as recording rules, `promtool check rules`) and
#      every metric it names is one gateway/src/metrics.rs registers, with
#      the suffix its type gives it (_total, _bucket/_sum/_count);
#   4. the files the compose file mounts exist, and lab/asterisk/pjsip.conf
#      identifies the gateway by the address the compose file gives it;
#   5. when a gateway binary is at hand (GATEWAY_BIN, else target/release or
#      target/debug; GATEWAY_BIN=none skips this step): the compose file's SBC_* environment is a valid
#      configuration (`gateway --print-config`), and a gateway started on
#      loopback answers the Dockerfile's HEALTHCHECK command, serves
#      /metrics that `promtool check metrics` finds clean and that has every
#      metric the dashboard uses (exactly, by name and type), and exits 0 on
#      SIGTERM.
#
# Needs python3 (with venv; docker-compose 1.29.2 wants Python 3.11 or
# older), promtool (Debian package prometheus) and, for step 5, openssl and
# curl. The first run installs docker-compose and check-jsonschema from PyPI
# into a scratch venv ($CHECK_LAB_VENV, default target/check-lab); later
# runs reuse it and need no network.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=${CHECK_LAB_VENV:-$root/target/check-lab}
tmp=$(mktemp -d)
gw_pid=
cleanup() {
    if [[ -n $gw_pid ]] && kill -0 "$gw_pid" 2>/dev/null; then
        kill "$gw_pid" 2>/dev/null || true
        wait "$gw_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
fail() { printf 'check-lab: %s\n' "$*" >&2; exit 1; }

for tool in python3 promtool; do
    command -v "$tool" >/dev/null || fail "$tool not found (promtool: apt-get install prometheus)"
done

# Two venvs: docker-compose 1.29.2 pins jsonschema 3, check-jsonschema
# needs 4.
compose_venv=$venv/compose
schema_venv=$venv/jsonschema
if [[ ! -x $compose_venv/bin/docker-compose ]]; then
    step "installing docker-compose 1.29.2 into $compose_venv"
    python3 -m venv "$compose_venv"
    # PyYAML 5.4.1 (docker-compose wants < 6) has no wheel for recent
    # Pythons and its sdist does not build with Cython 3.
    "$compose_venv/bin/pip" install -q 'Cython<3' wheel 'setuptools<72'
    "$compose_venv/bin/pip" install -q --no-build-isolation 'PyYAML==5.4.1'
    "$compose_venv/bin/pip" install -q 'docker-compose==1.29.2'
fi
if [[ ! -x $schema_venv/bin/check-jsonschema ]]; then
    step "installing check-jsonschema into $schema_venv"
    python3 -m venv "$schema_venv"
    "$schema_venv/bin/pip" install -q 'check-jsonschema==0.39.0'
fi

# The lab needs the host's address; any address does for the checks
# (192.0.2.10 is TEST-NET-1).
export SBC_MEDIA_PUBLIC_IP=${SBC_MEDIA_PUBLIC_IP:-192.0.2.10}

step "docker-compose config -q (docker-compose $("$compose_venv/bin/docker-compose" version --short))"
"$compose_venv/bin/docker-compose" -f docker-compose.yml config -q
"$compose_venv/bin/docker-compose" -f docker-compose.yml config > "$tmp/compose.yml"
echo "docker-compose.yml is valid"

step "check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml"
"$schema_venv/bin/check-jsonschema" --builtin-schema vendor.compose-spec docker-compose.yml

step "promtool check config lab/prometheus/prometheus.yml"
promtool check config lab/prometheus/prometheus.yml

step "Grafana files, dashboard expressions and metric names, mounts"
"$compose_venv/bin/python" - "$root" "$tmp" <<'PY'
import json, os, re, subprocess, sys
import yaml

root, tmp = sys.argv[1], sys.argv[2]
errors = []
def err(msg):
    errors.append(msg)

def load_yaml(path):
    with open(os.path.join(root, path)) as f:
        return yaml.safe_load(f)

# --- syntax
prov_dir = "lab/grafana/provisioning"
datasources, providers = [], []
for sub in ("datasources", "dashboards"):
    for name in sorted(os.listdir(os.path.join(root, prov_dir, sub))):
        doc = load_yaml(os.path.join(prov_dir, sub, name))
        if not isinstance(doc, dict) or doc.get("apiVersion") != 1:
            err(f"{prov_dir}/{sub}/{name}: not a provisioning file (apiVersion 1)")
            continue
        datasources += doc.get("datasources", []) if sub == "datasources" else []
        providers += doc.get("providers", []) if sub == "dashboards" else []
        print(f"{prov_dir}/{sub}/{name}: YAML ok")
dash_dir = "lab/grafana/dashboards"
dashboards = {}
for name in sorted(os.listdir(os.path.join(root, dash_dir))):
    with open(os.path.join(root, dash_dir, name)) as f:
        dashboards[name] = json.load(f)
    print(f"{dash_dir}/{name}: JSON ok")

# --- compose mounts
compose = yaml.safe_load(open(os.path.join(tmp, "compose.yml")))
services = compose["services"]
def mounts(service):
    out = {}
    for v in services[service].get("volumes", []):
        if isinstance(v, dict):
            src, dst = v.get("source"), v.get("target")
        else:
            parts = v.split(":")
            src, dst = parts[0], parts[1]
        out[dst] = src
    return out
for service, m in ((s, mounts(s)) for s in services):
    for dst, src in m.items():
        if src and src.startswith("/") and not os.path.exists(src):
            err(f"{service}: mounts {src}, which does not exist")
gm = mounts("grafana")
if os.path.realpath(gm.get("/etc/grafana/provisioning", "")) != os.path.join(root, prov_dir):
    err("grafana: lab/grafana/provisioning is not mounted at /etc/grafana/provisioning")
for p in providers:
    path = p.get("options", {}).get("path")
    if os.path.realpath(gm.get(path, "")) != os.path.join(root, dash_dir):
        err(f"grafana: the provider's path {path} is not where lab/grafana/dashboards is mounted")
home = services["grafana"].get("environment", {}).get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
if home and not any(home == f"{p['options']['path']}/{n}" for p in providers for n in dashboards):
    err(f"grafana: the home dashboard {home} is not a provisioned file")
pm = mounts("prometheus")
if os.path.realpath(pm.get("/etc/prometheus/prometheus.yml", "")) != os.path.join(root, "lab/prometheus/prometheus.yml"):
    err("prometheus: lab/prometheus/prometheus.yml is not mounted at /etc/prometheus/prometheus.yml")
am = mounts("asterisk")
for name in sorted(os.listdir(os.path.join(root, "lab/asterisk"))):
    if os.path.realpath(am.get(f"/etc/asterisk/{name}", "")) != os.path.join(root, "lab/asterisk", name):
        err(f"asterisk: lab/asterisk/{name} is not mounted at /etc/asterisk/{name}")
gw_ip = services["gateway"]["networks"]["lab"]["ipv4_address"]
pjsip = open(os.path.join(root, "lab/asterisk/pjsip.conf")).read()
matches = re.findall(r"^match=(\S+)", pjsip, re.M)
if matches != [gw_ip]:
    err(f"lab/asterisk/pjsip.conf identifies the gateway by {matches}, the compose file gives it {gw_ip}")
print("mounts and addresses ok")

# --- the metric names gateway/src/metrics.rs registers
src = open(os.path.join(root, "gateway/src/metrics.rs")).read()
struct = re.search(r"pub struct Metrics \{(.*?)\n\}", src, re.S).group(1)
field_type = {}
for name, ty in re.findall(r"pub (\w+): ([^;\n]+),", struct):
    field_type[name] = ("histogram" if "Histogram" in ty else "counter" if "Counter" in ty
                        else "gauge" if "Gauge" in ty else None)
unit_suffix = {"Seconds": "_seconds", "Bytes": "_bytes"}
known = {}  # metric family name -> type (None: not known statically)
for name, unit, field in re.findall(
        r'\.register(?:_with_unit)?\(\s*"(\w+)",\s*"(?:[^"\\]|\\.)*",\s*(?:Unit::(\w+),\s*)?m\.(\w+)', src):
    known["sbc_" + name + unit_suffix.get(unit, "")] = field_type.get(field)
for name, ty in re.findall(r'"((?:sbc|process)_\w+) (gauge|counter|histogram)"', src):
    known[name] = ty
proc_src = open(os.path.join(root, "gateway/src/metrics/process.rs")).read()
for name in re.findall(r'"(process_\w+)"', proc_src):
    for suffix in ("", "_seconds", "_bytes"):
        known.setdefault(name + suffix, None)
if len(known) < 20:
    err(f"only {len(known)} metric names found in gateway/src/metrics.rs: has the file changed shape?")

def family_of(sample):
    """The family a sample name belongs to, or an error."""
    for suffix, types in (("_total", ("counter",)), ("_bucket", ("histogram",)),
                          ("_sum", ("histogram",)), ("_count", ("histogram",)), ("", ("gauge",))):
        if suffix and not sample.endswith(suffix):
            continue
        base = sample[: len(sample) - len(suffix)] if suffix else sample
        if base in known:
            ty = known[base]
            if ty is None or ty in types:
                return base, None
            return base, f"{sample}: {base} is a {ty}"
    return None, f"{sample}: no such metric in gateway/src/metrics.rs"

# --- the dashboard
uids = {d.get("uid") for d in datasources}
used = {}
rules = []
for dname, dash in dashboards.items():
    seen_ids = set()
    def walk(panels):
        for p in panels:
            yield p
            yield from walk(p.get("panels", []))
    for p in walk(dash.get("panels", [])):
        pid = p.get("id")
        if pid in seen_ids:
            err(f"{dname}: panel id {pid} twice")
        seen_ids.add(pid)
        g = p.get("gridPos", {})
        if g.get("x", 0) + g.get("w", 0) > 24:
            err(f"{dname}: panel {p.get('title')!r} is wider than the grid")
        if p.get("type") == "row":
            continue
        if p.get("datasource", {}).get("uid") not in uids:
            err(f"{dname}: panel {p.get('title')!r} uses data source {p.get('datasource')}, not a provisioned one ({uids})")
        if not p.get("targets"):
            err(f"{dname}: panel {p.get('title')!r} has no query")
        for t in p.get("targets", []):
            expr = t.get("expr", "")
            if t.get("datasource", {}).get("uid", next(iter(uids))) not in uids:
                err(f"{dname}: a query of {p.get('title')!r} uses another data source")
            rules.append({"record": f"dashboard:panel{pid}_{t.get('refId', 'A')}", "expr": expr})
            # Metric names: identifiers not followed by "(" (functions),
            # outside label matchers and strings, not keywords.
            bare = re.sub(r'\{[^}]*\}|"[^"]*"|\[[^\]]*\]', " ", expr)
            bare = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", bare)
            for name in re.findall(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()", bare):
                if name in ("and", "or", "unless", "bool", "offset") or re.fullmatch(r"[0-9.e]+", name):
                    continue
                family, problem = family_of(name)
                if problem:
                    err(f"{dname}: panel {p.get('title')!r}: {problem}")
                else:
                    used[name] = family
    print(f"{dname}: {len(seen_ids)} panels, {len(rules)} queries, metrics used: {', '.join(sorted(used))}")

with open(os.path.join(tmp, "dashboard-rules.yml"), "w") as f:
    yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, f, sort_keys=False)
with open(os.path.join(tmp, "dashboard-metrics.txt"), "w") as f:
    f.write("\n".join(sorted(used)) + "\n")
if errors:
    print("\n".join("check-lab: " + e for e in errors), file=sys.stderr)
    sys.exit(1)
PY

step "promtool check rules (every dashboard expression, as a recording rule)"
promtool check rules "$tmp/dashboard-rules.yml"

# --- with a gateway binary
bin=${GATEWAY_BIN:-}
if [[ -z $bin ]]; then
    target=${CARGO_TARGET_DIR:-target}
    for candidate in "$target/release/gateway" "$target/debug/gateway"; do
        if [[ -x $candidate ]]; then bin=$candidate; break; fi
    done
elif [[ $bin == none ]]; then
    bin=
elif [[ ! -x $bin ]]; then
    fail "GATEWAY_BIN=$bin is not an executable"
fi
if [[ -z $bin ]]; then
    step "no gateway binary (GATEWAY_BIN, \$CARGO_TARGET_DIR or target/, release or debug): skipping the checks against it"
    echo "check-lab: all checks passed (without the binary)"
    exit 0
fi
for tool in openssl curl; do
    command -v "$tool" >/dev/null || fail "$tool not found (needed with a gateway binary)"
done

step "$bin --print-config with the compose file's gateway environment"
mapfile -t gw_env < <("$compose_venv/bin/python" -c '
import sys, yaml
env = yaml.safe_load(open(sys.argv[1]))["services"]["gateway"]["environment"]
for k, v in env.items():
    print(f"{k}={v}")
' "$tmp/compose.yml")
printf '  %s\n' "${gw_env[@]}"
env -i PATH="$PATH" "${gw_env[@]}" "$bin" --print-config > "$tmp/print-config.toml"
grep -E '^(uri|options_interval_secs|public_ip|rtp_ports|grace_secs) ' "$tmp/print-config.toml" | sed 's/^/  -> /'

step "$bin on loopback: HEALTHCHECK, /metrics, SIGTERM"
read -r http_port sip_port webrtc_port < <(python3 -c '
import socket
socks = []
for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_DGRAM):
    s = socket.socket(socket.AF_INET, kind); s.bind(("127.0.0.1", 0)); socks.append(s)
print(*(s.getsockname()[1] for s in socks))
')
env -i PATH="$PATH" \
    SBC_HTTP_LISTEN="127.0.0.1:$http_port" \
    SBC_HTTP_CERT="$tmp/gateway.pem" SBC_HTTP_KEY="$tmp/gateway-key.pem" \
    SBC_SIP_LISTEN="udp:127.0.0.1:$sip_port" \
    SBC_MEDIA_WEBRTC_PORT="$webrtc_port" SBC_MEDIA_PUBLIC_IP=127.0.0.1 \
    SBC_SHUTDOWN_GRACE_SECS=5 \
    "$bin" > "$tmp/gateway.log" 2>&1 &
gw_pid=$!
for _ in $(seq 100); do
    curl -ksf "https://127.0.0.1:$http_port/healthz" >/dev/null 2>&1 && break
    kill -0 "$gw_pid" 2>/dev/null || { cat "$tmp/gateway.log" >&2; fail "the gateway exited at start"; }
    sleep 0.1
done
# The Dockerfile's HEALTHCHECK command, on this port.
healthcheck=$(awk '
    /^HEALTHCHECK/ { on = 1 }
    on { line = line $0 "\n"; if ($0 !~ /\\$/) { on = 0 } }
    END { printf "%s", line }' Dockerfile |
    sed -e 's/\\$//' | tr -d '\n' | sed -e 's/^.* CMD //' -e "s/127\.0\.0\.1:8443/127.0.0.1:$http_port/")
echo "  HEALTHCHECK: $healthcheck"
sh -c "$healthcheck" || fail "the Dockerfile's HEALTHCHECK command failed against the running gateway"
echo "  -> healthy"
curl -ksf "https://127.0.0.1:$http_port/metrics" > "$tmp/metrics.txt"
promtool check metrics < "$tmp/metrics.txt"
echo "  -> promtool check metrics: clean"
missing=0
while read -r sample; do
    [[ -z $sample ]] && continue
    found=
    while read -r family type; do
        case $type in
            counter) [[ $sample == "${family%_total}_total" ]] && found=1 ;;
            histogram) [[ $sample == "${family}_bucket" || $sample == "${family}_sum" || $sample == "${family}_count" ]] && found=1 ;;
            *) [[ $sample == "$family" ]] && found=1 ;;
        esac
        [[ -n $found ]] && break
    done < <(sed -n 's/^# TYPE \([^ ]*\) \([a-z]*\)$/\1 \2/p' "$tmp/metrics.txt")
    if [[ -z $found ]]; then
        echo "check-lab: the dashboard uses $sample, which /metrics does not have" >&2
        missing=1
    fi
done < "$tmp/dashboard-metrics.txt"
[[ $missing == 0 ]] || exit 1
echo "  -> every metric the dashboard uses is in /metrics ($(wc -l < "$tmp/dashboard-metrics.txt") names)"
kill -TERM "$gw_pid"
rc=0
wait "$gw_pid" || rc=$?
gw_pid=
[[ $rc == 0 ]] || { cat "$tmp/gateway.log" >&2; fail "the gateway exited $rc on SIGTERM"; }
echo "  -> SIGTERM: drained and exited 0"

echo
echo "check-lab: all checks passed"
