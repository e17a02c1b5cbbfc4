#!/usr/bin/env bash
# A longer sweep of tests/journal-kills.test.ts's "kill at a seeded instant in the first 500 ms of its host"
# (issue 25): SAMPLES runs per isolation mode (default 50), each killed at a seeded random instant,
# recorded, replayed and resumed to the recorded trace. Prints each mode's seed and samples.
# Usage: bash tests/sweeps/early-kills.sh [SAMPLES]
set -euo pipefail
cd "$(dirname "$0")/../.."
npm run build --silent
TROUPE_TEST_SAMPLES="${1:-50}" npx vitest run tests/journal-kills.test.ts -t "seeded instant"
