#!/bin/sh
# One database and one least-privilege user per Pasar service: pasar_product,
# pasar_payment, pasar_order and pasar_fulfillment, each user on its own database only.
#
# The mysql image runs it once, when it starts on an empty data volume (it executes the
# files of /docker-entrypoint-initdb.d/ after setting the root password). The local
# Kubernetes overlay mounts it there too, and docker/tests runs this same file against the
# MariaDB server the tests start. Running it again is harmless: it creates what is missing
# and sets the passwords to the current ones.
#
# What a service's user may do, on its own database: read and write rows (SELECT, INSERT,
# UPDATE, DELETE) and, because a service applies its own migrations, create and change its
# tables (CREATE, ALTER, INDEX, DROP, REFERENCES for foreign keys). Nothing on any other
# database, nothing server-wide (no FILE, PROCESS, SUPER, RELOAD), no GRANT OPTION.
#
# Reads: MYSQL_ROOT_PASSWORD (the image's), PASAR_PRODUCT_DB_PASSWORD,
# PASAR_PAYMENT_DB_PASSWORD, PASAR_ORDER_DB_PASSWORD and PASAR_FULFILLMENT_DB_PASSWORD. Each password goes into the
# service's DATABASE_URL as it is, so it may hold only letters, digits and . _ ~ -
# (at least 16 of them). PASAR_INIT_MYSQL is the client command and how it connects as
# root (default: the image's client on its local socket, as during initialisation).
set -eu

fail() {
  echo "10-pasar-databases: $*" >&2
  exit 1
}

password_of() {  # password_of VARIABLE: its value, checked
  eval "value=\${$1:-}"
  [ -n "$value" ] || fail "$1 is required"
  case "$value" in
    *[!A-Za-z0-9._~-]*) fail "$1 may hold only letters, digits and . _ ~ - (it goes into DATABASE_URL as it is)" ;;
  esac
  [ "${#value}" -ge 16 ] || fail "$1 must be at least 16 characters long"
  printf '%s' "$value"
}

product_password="$(password_of PASAR_PRODUCT_DB_PASSWORD)"
payment_password="$(password_of PASAR_PAYMENT_DB_PASSWORD)"
order_password="$(password_of PASAR_ORDER_DB_PASSWORD)"
fulfillment_password="$(password_of PASAR_FULFILLMENT_DB_PASSWORD)"

service_sql() {  # service_sql NAME PASSWORD
  cat <<SQL
CREATE DATABASE IF NOT EXISTS \`pasar_$1\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'pasar_$1'@'%' IDENTIFIED BY '$2';
ALTER USER 'pasar_$1'@'%' IDENTIFIED BY '$2';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP, REFERENCES ON \`pasar_$1\`.* TO 'pasar_$1'@'%';
SQL
}

# The root password goes to the client in a private options file, not on its command line.
options="$(mktemp)"
trap 'rm -f "$options"' EXIT
chmod 600 "$options"
printf '[client]\npassword=%s\n' "${MYSQL_ROOT_PASSWORD:-}" >"$options"

# shellcheck disable=SC2086 # PASAR_INIT_MYSQL is a command and its options, split on purpose
set -- ${PASAR_INIT_MYSQL:-mysql --protocol=socket --socket=/var/run/mysqld/mysqld.sock --user=root}
client="$1"
shift
{
  service_sql product "$product_password"
  service_sql payment "$payment_password"
  service_sql order "$order_password"
  service_sql fulfillment "$fulfillment_password"
  echo "FLUSH PRIVILEGES;"
} | "$client" --defaults-extra-file="$options" "$@"
echo "10-pasar-databases: databases and users of product, payment, order and fulfillment are ready"
