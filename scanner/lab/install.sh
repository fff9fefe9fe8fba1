#!/bin/sh
# Installs the Debian packages the scanner lab (go test -tags lab ./scanner/lab/)
# needs. Idempotent: packages already present are left as they are.
#
# The lab starts every daemon itself, inside network namespaces it creates; none may
# start in the machine's own namespace during installation, so package scripts are
# told not to start services (policy-rc.d) for the time of the install.
set -eu

# iproute2/iptables build the lab; nmap and masscan are the benchmark's
# comparison; the rest are the daemons the lab runs (kamailio: a SIP proxy,
# baresip-core: a SIP user agent, krb5-kdc: an MIT KDC with kdb5_util to create
# its realm).
PACKAGES="
iproute2 iptables socat time nmap masscan
openssh-server nginx-light vsftpd snmpd ntpsec rsync memcached slapd
tigervnc-standalone-server xrdp exim4-daemon-light dnsmasq-base
inetutils-telnetd redis-server mosquitto
kamailio baresip-core krb5-kdc
"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	echo "lab packages already installed"
	exit 0
fi

policy=/usr/sbin/policy-rc.d
restore=""
if [ -e "$policy" ]; then
	cp -p "$policy" "$policy.portcullis-lab"
	restore=yes
fi
cleanup() {
	if [ -n "$restore" ]; then mv -f "$policy.portcullis-lab" "$policy"; else rm -f "$policy"; fi
}
trap cleanup EXIT
printf '#!/bin/sh\nexit 101\n' >"$policy"
chmod 755 "$policy"

apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
