#!/usr/bin/env bash
# Extract UI strings, merge them into the catalogues, and compile them.
#   bash scripts/i18n.sh update   # after changing strings; then translate the new entries
#   bash scripts/i18n.sh compile  # after translating
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=".venv/bin/pybabel"
# Flask-Babel reads BABEL_TRANSLATION_DIRECTORIES relative to the app root (facility_app/web).
DIR=facility_app/web/translations
# Flask-Babel looks the catalogue up under str(babel.Locale.parse("zh_CN")), which is
# "zh_Hans_CN" (Babel adds the script): a folder named zh_CN would never be found.
LOCALE=zh_Hans_CN
case "${1:-}" in
  update)
    # Domain errors carry their message as the second argument; extract those too.
    mkdir -p "$DIR"
    "$PYBABEL" extract -F babel.cfg -k _l -k lazy_gettext -k DomainError:2 -k Conflict:2 \
      -k NotFound:2 -k Forbidden:2 -k TooManyAttempts:2 -k __init__:2 --no-location --sort-output \
      --project CareWatch --copyright-holder "CareWatch" -o "$DIR/messages.pot" .
    if [ ! -f "$DIR/$LOCALE/LC_MESSAGES/messages.po" ]; then
      "$PYBABEL" init -i "$DIR/messages.pot" -d "$DIR" -l "$LOCALE"
    fi
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
