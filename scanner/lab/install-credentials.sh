#!/bin/sh
# Installs the Debian daemons the credential lab (TestLabCredentials, go test -tags lab
# ./scanner/lab/) runs with weak and strong passwords. Idempotent: packages already
# present are left as they are. Like install.sh, no daemon may start in the machine's
# own namespace during installation: policy-rc.d refuses every start meanwhile.
set -eu

# snmp (snmpget) reads the agents' own counters of bad communities;
# mosquitto_passwd comes with mosquitto, redis-cli with redis-server.
PACKAGES="
iproute2 socat openssh-server vsftpd snmpd snmp inetutils-telnetd
mariadb-server redis-server mosquitto postgresql tigervnc-standalone-server
"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	echo "credential lab packages already installed"
	exit 0
fi

policy=/usr/sbin/policy-rc.d
restore=""
if [ -e "$policy" ]; then
	cp -p "$policy" "$policy.portcullis-creds"
	restore=yes
fi
cleanup() {
	if [ -n "$restore" ]; then mv -f "$policy.portcullis-creds" "$policy"; else rm -f "$policy"; fi
}
trap cleanup EXIT
printf '#!/bin/sh\nexit 101\n' >"$policy"
chmod 755 "$policy"

apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	-o DPkg::Lock::Timeout=600 $missing

