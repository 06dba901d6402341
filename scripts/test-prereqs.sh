#!/usr/bin/env bash
# Runs before `npm test`: the system programs the tests use. As root with apt-get it installs what is missing
# (Debian packages: openjdk-17-jre-headless for DynamoDB Local, openssl for throwaway certificates, chromium
# for the browser tests, simplesamlphp with php-cli, php-xml and php-mbstring and libxml2-utils for the SAML
# tests); otherwise it names what is missing in one line and stops.
set -euo pipefail

missing=()
packages=()
command -v java >/dev/null 2>&1 || { missing+=(java); packages+=(openjdk-17-jre-headless); }
command -v openssl >/dev/null 2>&1 || { missing+=(openssl); packages+=(openssl); }
command -v chromium >/dev/null 2>&1 || { missing+=(chromium); packages+=(chromium); }
# SAML: xmllint validates the SP metadata against the OASIS schema that SimpleSAMLphp ships.
command -v xmllint >/dev/null 2>&1 || { missing+=(xmllint); packages+=(libxml2-utils); }
[ -f /usr/share/simplesamlphp/schemas/saml-schema-metadata-2.0.xsd ] || { missing+=(simplesamlphp); packages+=(simplesamlphp); }
# SimpleSAMLphp runs as the real IdP of test/e2e/saml-simplesamlphp.test.ts under `php -S` (DOM and mbstring).
command -v php >/dev/null 2>&1 || { missing+=(php); packages+=(php-cli php-xml php-mbstring); }
if command -v php >/dev/null 2>&1; then
  php -m 2>/dev/null | grep -x dom >/dev/null || { missing+=(php-xml); packages+=(php-xml); }
  php -m 2>/dev/null | grep -x mbstring >/dev/null || { missing+=(php-mbstring); packages+=(php-mbstring); }
fi

if [ ${#packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test prerequisites: installing ${packages[*]} (apt-get)" >&2
    log=$(mktemp)
    (apt-get update -qq || true) >"$log" 2>&1
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >>"$log" 2>&1; then
      tail -20 "$log" >&2
      echo "npm test needs: ${missing[*]} — apt-get could not install ${packages[*]}" >&2
      exit 1
    fi
    rm -f "$log"
  else
    echo "npm test needs: ${missing[*]} — install with: sudo apt-get install ${packages[*]}" >&2
    exit 1
  fi
fi

# moto_server (Python moto with Flask) speaks Secrets Manager, KMS, SQS, EventBridge and CloudWatch Logs for the adapter and CLI tests.
if ! command -v moto_server >/dev/null 2>&1; then
  echo "npm test needs: moto_server — install with: pip install 'moto[server]'" >&2
  exit 1
fi
