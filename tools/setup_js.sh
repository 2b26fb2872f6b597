#!/usr/bin/env bash
# Installs the JavaScript end-to-end test dependencies (AWS SDK v3, sqs-consumer) from the
# npm registry, exactly as pinned in tests/e2e/js/package-lock.json. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../tests/e2e/js"
if [[ ! -d node_modules/@aws-sdk/client-sqs || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
