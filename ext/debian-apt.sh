# Sourced, not run: a private apt configuration derived from this machine's own apt sources, so
# that scripts can fetch Debian source packages, other suites' binaries and kernels without
# touching the system's apt state. No host name is written anywhere: the archive's address is
# read from /etc/apt at run time.
#
#   debian_archive_uri                 the first Debian archive of this machine's apt sources
#   debian_apt_setup WORK TYPES SUITES [ARCH]
#                                      makes WORK's folders and WORK/sources/debian.sources, and
#                                      sets APT_OPTS for `apt-get $APT_OPTS …` (with ARCH, for that
#                                      architecture only, with its own dpkg status)

DEBIAN_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

debian_archive_uri() {
  ( cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {print $2}'
    cat /etc/apt/sources.list 2>/dev/null | awk '$1 == "deb" {print $2}' ) | grep -v security | head -n 1
}

debian_apt_setup() {
  _work=$1 _types=$2 _suites=$3 _arch=${4:-}
  _uri=$(debian_archive_uri)
  if [ -z "$_uri" ]; then
    echo "debian-apt: no Debian archive found in this machine's apt sources" >&2
    return 1
  fi
  mkdir -p "$_work/lists/partial" "$_work/cache/archives/partial" "$_work/sources" "$_work/state"
  [ -f "$_work/state/status" ] || : > "$_work/state/status"
  {
    printf 'Types: %s\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n' "$_types" "$_uri" "$_suites" "$DEBIAN_KEYRING"
    [ -z "$_arch" ] || printf 'Architectures: %s\n' "$_arch"
  } > "$_work/sources/debian.sources.new"
  # Only our own list: a stanza left by an older script would configure the same suites twice.
  for _f in "$_work/sources"/*.sources; do [ "$_f" = "$_work/sources/debian.sources" ] || rm -f "$_f"; done
  # A changed source list makes the old indexes stale.
  cmp -s "$_work/sources/debian.sources.new" "$_work/sources/debian.sources" || rm -rf "$_work/lists"/*_Packages* "$_work/lists"/*_Sources*
  mv "$_work/sources/debian.sources.new" "$_work/sources/debian.sources"
  APT_OPTS="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$_work/sources
    -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
    -o Dir::State=$_work/state -o Dir::State::Lists=$_work/lists -o Dir::State::status=$_work/state/status
    -o Dir::Cache=$_work/cache -o APT::Sandbox::User=root -o APT::Install-Recommends=false -o Debug::NoLocking=true"
  [ -z "$_arch" ] || APT_OPTS="$APT_OPTS -o APT::Architecture=$_arch -o APT::Architectures::=$_arch"
}
