#!/usr/bin/env bash
# The README's API walk, end to end, with curl only:
#   create a token (signing in through the login form, as a person would), open a GERID
#   request with an attachment, read its timeline, and accept the solution once an agent has
#   resolved it.
# Against `make demo`:  AGENT_TOKEN=pat_... docs/api_walk.sh
#   BASE      the portal (default http://127.0.0.1:5000)
#   CPF, PASSWORD   the requester (default: Felipe, the demo's)
#   AGENT_TOKEN     a write token of an agent of the GERID group (Ana in the demo creates it
#                   under Perfil › Tokens de acesso; staff sign in with a second factor, so
#                   curl cannot make it for them). Without it the walk stops before accepting.
#   FILE      the attachment (default: a small PNG written here)
set -euo pipefail
BASE=${BASE:-http://127.0.0.1:5000}
CPF=${CPF:-529.982.247-25}
PASSWORD=${PASSWORD:-portal-demo-2026}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
JAR="$WORK/cookies"
csrf() { sed -n 's/.*name="csrf_token"[^>]*value="\([^"]*\)".*/\1/p' | head -n1; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# 1. A token: sign in, then Perfil › Tokens de acesso (read and write, 30 days).
curl -sf -c "$JAR" -b "$JAR" "$BASE/login" | csrf > "$WORK/csrf"
curl -sf -c "$JAR" -b "$JAR" -o /dev/null "$BASE/login" \
  --data-urlencode "csrf_token=$(cat "$WORK/csrf")" --data-urlencode "cpf=$CPF" \
  --data-urlencode "password=$PASSWORD"
curl -sf -c "$JAR" -b "$JAR" "$BASE/perfil/tokens" | csrf > "$WORK/csrf"
EXPIRES=$(python3 -c "import datetime as d; print((d.date.today()+d.timedelta(days=30)).strftime('%d/%m/%Y'))")
TOKEN=$(curl -sf -c "$JAR" -b "$JAR" "$BASE/perfil/tokens" \
  --data-urlencode "csrf_token=$(cat "$WORK/csrf")" --data-urlencode "name=Sistema da prefeitura" \
  --data-urlencode "scopes=read write" --data-urlencode "expires_on=$EXPIRES" \
  | sed -n 's/.*id="new-token"[^>]*value="\(pat_[A-Za-z0-9_-]*\)".*/\1/p')
AUTH="Authorization: Bearer $TOKEN"
echo "token: ${TOKEN:0:12}..."

# 2. The GERID form's fields, then a request with them.
curl -sf -H "$AUTH" "$BASE/api/v1/catalog/items/gerid" | json "['form']['fields'][0]['key']"
NUMBER=$(curl -sf -H "$AUTH" -H 'Content-Type: application/json' "$BASE/api/v1/requests" -d '{
    "item": "gerid",
    "fields": {"motivo": "Problema de acesso", "funcionalidade": "Acesso"},
    "description": "Usuária sem acesso ao GERID desde ontem."}' | json "['number']")
echo "opened: $NUMBER"

# 3. The attachment, with a message (multipart: one or more `file` parts and `body`).
FILE=${FILE:-$WORK/tela.png}
[ -f "$FILE" ] || python3 - "$FILE" <<'PY'
import struct, sys, zlib
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
pixels = b"".join(b"\0" + b"\xcc\x22\x22" * 8 for _ in range(8))  # 8×8, red
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
open(sys.argv[1], "wb").write(png + chunk(b"IDAT", zlib.compress(pixels)) + chunk(b"IEND", b""))
PY
curl -sf -H "$AUTH" "$BASE/api/v1/requests/$NUMBER/attachments" \
  -F "file=@$FILE;type=image/png" -F "body=A tela do erro." | json "['attachments'][0]['name']"

# 4. The timeline, newest first.
curl -sf -H "$AUTH" "$BASE/api/v1/requests/$NUMBER/timeline" \
  | json "['entries'][0]['kind_label']"

if [ -z "${AGENT_TOKEN:-}" ]; then
  echo "No AGENT_TOKEN: resolve $NUMBER in the queue, then accept it as in step 6."; exit 0
fi

# 5. An agent starts and resolves it, each action with the ETag read last (If-Match).
act() {  # act TOKEN ACTION [REASON]
  local etag
  etag=$(curl -sfI -H "Authorization: Bearer $1" "$BASE/api/v1/requests/$NUMBER" \
    | tr -d '\r' | awk 'tolower($1)=="etag:" {print $2}')
  curl -sf -H "Authorization: Bearer $1" -H "If-Match: $etag" -H 'Content-Type: application/json' \
    "$BASE/api/v1/requests/$NUMBER/actions" -d "{\"action\": \"$2\", \"reason\": \"${3:-}\"}" \
    | json "['state_label']"
}
act "$AGENT_TOKEN" start
act "$AGENT_TOKEN" resolve "Acesso liberado no GERID."

# 6. The requester accepts the solution: Fechado.
act "$TOKEN" accept
