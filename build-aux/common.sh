# build-aux/common.sh — what build-aux/run and build-aux/test share.
# Sourced, not run.

# Debian 12 packages Mealtrace needs to build and run (webp-pixbuf-loader:
# previews of WebP photos).
MT_BUILD_PACKAGES="gcc libc6-dev meson ninja-build pkg-config gettext
  libglib2.0-dev libglib2.0-dev-bin libjson-glib-dev libsoup-3.0-dev libssl-dev
  libcairo2-dev libgdk-pixbuf-2.0-dev libgtk-4-dev libgtk-4-bin
  adwaita-icon-theme librsvg2-common desktop-file-utils appstream
  webp-pixbuf-loader"
# And to run its tests: python3 is the oracle of the JSON layout test,
# python3-botocore (AWS's own signer) that of the SigV4 one.
# The window's tests run each in a real X display (Xvfb) with a session bus
# of its own (tests/with-display.sh).
# valgrind: the core, net and app tests run again under its memcheck.
MT_TEST_PACKAGES="python3 python3-botocore xvfb dbus-daemon valgrind"
# And to fuzz (build-aux/fuzz): clang with libFuzzer and the sanitizers'
# runtimes.
MT_FUZZ_PACKAGES="clang libclang-rt-14-dev"

# Runs a command with a virtual display and a session bus of its own, as
# the window's benchmark needs (the window's tests start their own).
mt_with_display () {
  "$(dirname "${BASH_SOURCE[0]}")/../tests/with-display.sh" "$@"
}

mt_log () {
  printf '%s\n' "$*" >&2
}

# Installs the packages that are missing: with apt-get as root, otherwise
# prints the exact command and stops.
mt_ensure_packages () {
  local missing=() pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0

  if ! command -v apt-get >/dev/null 2>&1; then
    mt_log "Mealtrace needs these packages, and this system has no apt-get: ${missing[*]}"
    exit 1
  fi
  if [ "$(id -u)" -ne 0 ]; then
    mt_log "Mealtrace needs these Debian packages: ${missing[*]}"
    mt_log "Install them, then run this again:"
    mt_log "  sudo apt-get install -y ${missing[*]}"
    exit 1
  fi

  mt_log "Installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
}

# Configures (or reconfigures) a build folder: mt_setup DIR [meson options…]
mt_setup () {
  local dir=$1
  shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >&2
  else
    meson setup "$dir" "$@" >&2
  fi
}
