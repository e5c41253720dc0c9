#!/usr/bin/env bash
# Extract UI strings, merge them into the catalogues, and compile them.
#   bash scripts/i18n.sh update   # after changing strings; then translate the new entries
#   bash scripts/i18n.sh compile  # after translating
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=".venv/bin/pybabel"
DIR=facility_app/translations
case "${1:-}" in
  update)
    # Domain errors carry their message as the second argument; extract those too.
    "$PYBABEL" extract -F babel.cfg -k _l -k lazy_gettext -k DomainError:2 -k Conflict:2 \
      -k NotFound:2 -k Forbidden:2 -k TooManyAttempts:2 -k __init__:2 --no-location --sort-output \
      --project CareWatch --copyright-holder "CareWatch" -o "$DIR/messages.pot" .
    "$PYBABEL" update -i "$DIR/messages.pot" -d "$DIR" --no-fuzzy-matching --ignore-obsolete
    ;;
  compile)
    "$PYBABEL" compile -d "$DIR" --statistics
    ;;
  *)
    echo "usage: $0 update|compile" >&2
    exit 2
    ;;
esac
