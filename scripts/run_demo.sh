#!/usr/bin/env bash
# Runs the web server and the scheduler together; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
export FLASK_APP=wsgi
trap 'trap - INT TERM EXIT; kill 0 2>/dev/null; wait' INT TERM EXIT
.venv/bin/python scheduler.py &
.venv/bin/flask run --host 127.0.0.1 --port 5000 &
sleep 0.5
cat <<MSG

  Portal de Atendimento: http://127.0.0.1:5000
  Demo accounts (CPF, password portal-demo-2026):
    529.982.247-25  Felipe Rodrigues Andrade   (requester)
    111.444.777-35  Ellem Saraiva Reis         (requester, follower)
    248.438.034-80  Ana Paula Atendente        (agent, Suporte GERID)
    362.456.128-61  Bruno Souza Atendente      (agent, Suporte CadÚnico)
    935.411.347-80  Carla Mendes Administradora (admin)
  Emails are written to instance/mail/. Ctrl-C stops the portal and its scheduler.

MSG
wait
