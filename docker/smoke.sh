#!/usr/bin/env bash
# End-to-end smoke test of the compose bundle. Needs Docker with the compose plugin, curl, openssl.
#   docker/smoke.sh            # builds, starts, checks, tears down (volumes included)
#   KEEP=1 docker/smoke.sh     # leaves the bundle running for inspection
# Steps: bring the bundle up (dev profile: Mailpit), register a Shopify shop through the admin API, send
# signed webhooks for an abandoned checkout (ABANDON_AFTER=20s here), wait for the recovery email in the
# appliance's outbox (GET /api/shops/<id>/outbox; Mailpit once the SMTP adapter is configured), check
# reclaim.events.v1 on Kafka (no clear-text email) and the database.
set -euo pipefail

cd "$(dirname "$0")/.."
PROJECT="${PROJECT:-reclaim-smoke}"
HTTP_PORT="${HTTP_PORT:-13000}"
MAILPIT_PORT="${MAILPIT_PORT:-18025}"
WEBHOOK_PATH="${WEBHOOK_PATH:-/webhooks/shopify}"
SHOP_DOMAIN="${SHOP_DOMAIN:-smoke-shop.myshopify.com}"
SMOKE_TIMEOUT="${SMOKE_TIMEOUT:-600}"
SHOPPER_EMAIL="smoke-$(date +%s)@example.test"

workdir="$(mktemp -d)"
env_file="$workdir/.env"
secret() { openssl rand -hex 32; }
SHOP_SECRET="${SHOP_SECRET:-$(secret)}"
umask 077
cat > "$env_file" <<ENV
POSTGRES_PASSWORD=$(secret)
ANALYST_DB_PASSWORD=$(secret)
ADMIN_TOKEN=$(secret)
ANALYST_TOKEN=$(secret)
RECLAIM_MASTER_KEY=$(secret)
PUBLIC_URL=http://127.0.0.1:${HTTP_PORT}
RECLAIM_HTTP_PORT=${HTTP_PORT}
MAILPIT_HOST_PORT=${MAILPIT_PORT}
POSTGRES_HOST_PORT=15432
EVENTSTORE_HOST_PORT=12113
KAFKA_HOST_PORT=19094
SMTP_URL=smtp://mailpit:1025
MAIL_FROM=Reclaim Smoke <no-reply@example.test>
ABANDON_AFTER=20s
FOLLOW_UP_DELAYS=1h
HOLDOUT_PERCENT=0
EMAIL_CONSENT_POLICY=unless-opted-out
MERCHANT_NAME=Smoke Shop
MERCHANT_POSTAL_ADDRESS=1 Smoke Street, 10115 Berlin, Germany
ENV
ADMIN_TOKEN_VALUE="$(sed -n 's/^ADMIN_TOKEN=//p' "$env_file")"

compose() { docker compose --project-name "$PROJECT" --env-file "$env_file" --profile dev -f compose.yaml "$@"; }

cleanup() {
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "smoke: FAILED (exit $rc); last reclaim logs:" >&2
    compose logs --no-color --tail 100 reclaim >&2 || true
  fi
  if [ "${KEEP:-0}" != "1" ]; then compose down --volumes --remove-orphans >/dev/null 2>&1 || true; fi
  rm -rf "$workdir"
  exit "$rc"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }

# wait_for <seconds> <command...>: retries the command every 3 s until it succeeds or time runs out.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "smoke: timed out waiting for: $*" >&2
      return 1
    fi
    sleep 3
  done
}

step "build and start the bundle"
compose up --detach --build --wait --wait-timeout 300

step "register the shop through the admin API"
shop_json="$(curl -fsS -X POST "http://127.0.0.1:${HTTP_PORT}/api/shops" \
  -H "Authorization: Bearer ${ADMIN_TOKEN_VALUE}" -H 'Content-Type: application/json' \
  --data "{\"platform\":\"shopify\",\"shopDomain\":\"${SHOP_DOMAIN}\",\"webhookSecret\":\"${SHOP_SECRET}\",\"apiUrl\":\"https://${SHOP_DOMAIN}/admin/api/2025-01\",\"apiToken\":\"smoke\",\"currency\":\"EUR\",\"timezone\":\"Europe/Berlin\"}")"
SHOP_ID="$(printf '%s' "$shop_json" | sed -n 's/.*"id":"\([0-9a-f-]*\)".*/\1/p')"
[ -n "$SHOP_ID" ] || { echo "smoke: shop registration failed: $shop_json" >&2; exit 1; }
echo "shop ${SHOP_ID}"

step "send signed webhooks (checkout created, then updated: abandoned)"
send_webhook() {
  local topic="$1" body="$2" hmac
  hmac="$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$SHOP_SECRET" -binary | base64)"
  curl -fsS -o /dev/null -w '%{http_code}\n' -X POST "http://127.0.0.1:${HTTP_PORT}${WEBHOOK_PATH}" \
    -H 'Content-Type: application/json' \
    -H "X-Shopify-Topic: ${topic}" \
    -H "X-Shopify-Shop-Domain: ${SHOP_DOMAIN}" \
    -H "X-Shopify-Webhook-Id: $(openssl rand -hex 16)" \
    -H "X-Shopify-Event-Id: $(openssl rand -hex 16)" \
    -H "X-Shopify-Hmac-Sha256: ${hmac}" \
    --data-binary "$body"
}
checkout_id=9007199254740993
now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
body_create="{\"id\":${checkout_id},\"token\":\"smoke-${checkout_id}\",\"email\":\"${SHOPPER_EMAIL}\",\"buyer_accepts_marketing\":true,\"currency\":\"EUR\",\"total_price\":\"42.50\",\"created_at\":\"${now}\",\"updated_at\":\"${now}\",\"completed_at\":null,\"abandoned_checkout_url\":\"https://${SHOP_DOMAIN}/checkouts/smoke\",\"line_items\":[{\"product_id\":1,\"variant_id\":2,\"title\":\"Mug\",\"quantity\":1,\"price\":\"42.50\"}]}"
send_webhook checkouts/create "$body_create"
send_webhook checkouts/update "$body_create"

step "wait for the recovery email (up to ${SMOKE_TIMEOUT}s)"
mail_arrived() {
  # Mailpit when an SMTP adapter delivers there; otherwise the appliance's local outbox.
  curl -fsS "http://127.0.0.1:${MAILPIT_PORT}/api/v1/search?query=to:${SHOPPER_EMAIL}" 2>/dev/null | grep -q '"messages_count":[1-9]' ||
    curl -fsS "http://127.0.0.1:${HTTP_PORT}/api/shops/${SHOP_ID}/outbox" -H "Authorization: Bearer ${ADMIN_TOKEN_VALUE}" |
      grep -q 'List-Unsubscribe'
}
wait_for "$SMOKE_TIMEOUT" mail_arrived
echo "recovery email produced"

step "check the Kafka topic"
topic_has_events() {
  compose exec -T kafka /opt/kafka/bin/kafka-console-consumer.sh --bootstrap-server localhost:9092 \
    --topic "${KAFKA_TOPIC:-reclaim.events.v1}" --from-beginning --timeout-ms 10000 \
    --property print.headers=true --property print.key=true 2>/dev/null >"$workdir/topic.txt" || true
  grep -q 'event-id:' "$workdir/topic.txt"
}
wait_for 120 topic_has_events
if grep -q "$SHOPPER_EMAIL" "$workdir/topic.txt"; then
  echo "smoke: the shopper's email appears in clear text on Kafka (R21)" >&2
  exit 1
fi
echo "topic holds $(grep -c 'event-id:' "$workdir/topic.txt") events, no clear-text email"

step "check the read models"
read_models_filled() {
  local rows
  rows="$(compose exec -T postgres psql -U reclaim -d reclaim -tAc \
    "SELECT coalesce(sum(n_live_tup), 0) FROM pg_stat_user_tables WHERE schemaname NOT IN ('kafka_relay', 'public')")"
  [ "${rows:-0}" -gt 0 ]
}
wait_for 60 read_models_filled
compose exec -T postgres psql -U reclaim -d reclaim -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'reclaim_analyst'" | grep -q 1
echo "read models populated; reclaim_analyst exists"

step "smoke: OK"
