# Sourced by the other scripts: makes .venv when missing and installs the
# package (editable) with the extras given, again whenever pyproject.toml changes.
# Usage: roomchat_env [EXTRA]
roomchat_env() {
  local extra="${1:-}" py stamp want
  cd "$(dirname "${BASH_SOURCE[0]}")/.." || return 1
  if [ ! -x .venv/bin/python ]; then
    for py in python3.13 python3.12 python3.11 python3; do
      if command -v "$py" >/dev/null 2>&1 &&
        "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        break
      fi
      py=""
    done
    if [ -z "$py" ]; then
      echo "roomchat needs Python 3.11 or newer" >&2
      return 1
    fi
    echo "Creating .venv with $py" >&2
    "$py" -m venv .venv || return 1
  fi
  stamp=.venv/.roomchat-installed
  want="$(cat pyproject.toml | cksum) extra=${extra}"
  if [ ! -f "$stamp" ] || ! grep -qxF "$want" "$stamp"; then
    echo "Installing roomchat${extra:+[$extra]} into .venv" >&2
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extra:+[$extra]}" || return 1
    printf '%s\n' "$want" >"$stamp"
  fi
}
