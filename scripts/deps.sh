# Sourced by the other scripts: make sure the Debian packages eigenml needs are installed.
# As root it installs what is missing; otherwise it prints the exact command and stops.

ensure_packages() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "eigenml: no dpkg here; make sure these are installed: $*" >&2
    return 0
  fi
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ]; then
    echo "eigenml: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "eigenml: missing Debian packages. Install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
}

# What building anything needs (the library itself needs only Eigen; the examples' model server
# and its test add nlohmann-json and cpp-httplib, see examples.sh and test.sh).
EIGENML_BUILD_PACKAGES=(cmake g++ make libeigen3-dev)
