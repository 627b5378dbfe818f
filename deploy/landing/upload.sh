#!/usr/bin/env bash
# Upload a directory of landing-zone exports to S3, for systems that have only cron and a shell.
#
#   upload.sh DIR s3://bucket[/prefix]
#
# Uploads every file under DIR/landing/ (what `orion produce --to-files DIR`
# writes, or any system's exports laid out as landing/<domain>/<entity>/<name>)
# to s3://bucket/prefix/landing/..., in key order, so the ingester, which takes
# files in key order, sees them in the order they were written.
#
# Each file's SHA-256 goes with it twice: as x-amz-content-sha256, which the
# store checks against the body (a corrupted upload is refused), and as the
# object's x-amz-meta-sha256, which the next run compares to skip files
# already uploaded with the same content. Uses only curl (7.75 or later, for
# --aws-sigv4) and sha256sum (or shasum); no aws CLI needed.
#
# Environment: ORION_S3_ENDPOINT (e.g. http://127.0.0.1:17070),
# ORION_S3_ACCESS_KEY, ORION_S3_SECRET_KEY, ORION_S3_REGION (default us-east-1).
# Prints one line per file (uploaded or skipped); exits 1 with a message on the
# first failure (files uploaded before it stay uploaded), 2 on bad usage.
set -euo pipefail

die() { echo "upload.sh: $*" >&2; exit 1; }
usage() { echo "usage: upload.sh DIR s3://bucket[/prefix]" >&2; exit 2; }

[ $# -eq 2 ] || usage
dir=${1%/}
target=$2
case $target in s3://?*) ;; *) usage ;; esac
[ -d "$dir/landing" ] || die "$dir/landing is not a directory (nothing to upload)"
: "${ORION_S3_ENDPOINT:?upload.sh: set ORION_S3_ENDPOINT, e.g. http://127.0.0.1:17070}"
: "${ORION_S3_ACCESS_KEY:?upload.sh: set ORION_S3_ACCESS_KEY}"
: "${ORION_S3_SECRET_KEY:?upload.sh: set ORION_S3_SECRET_KEY}"
region=${ORION_S3_REGION:-us-east-1}
command -v curl >/dev/null || die "curl is not installed"
curl --help all 2>/dev/null | grep -q -- --aws-sigv4 || die "curl is too old: --aws-sigv4 needs 7.75+"

if command -v sha256sum >/dev/null; then
    sha256() { sha256sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null; then
    sha256() { shasum -a 256 "$1" | cut -d' ' -f1; }
else
    die "neither sha256sum nor shasum is installed"
fi

rest=${target#s3://}
bucket=${rest%%/*}
prefix=
if [ "$rest" != "$bucket" ]; then
    prefix=${rest#*/}
    prefix=${prefix%/}
    [ -n "$prefix" ] && prefix="$prefix/"
fi
base="${ORION_S3_ENDPOINT%/}/$bucket"
EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

s3() {  # s3 URL [curl args...]: a signed request; prints the HTTP status
    local url=$1
    shift
    curl -sS --max-time 300 --aws-sigv4 "aws:amz:$region:s3" \
        --user "$ORION_S3_ACCESS_KEY:$ORION_S3_SECRET_KEY" -w '%{http_code}' "$@" "$url"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
uploaded=0
skipped=0
while IFS= read -r -d '' file; do
    rel=${file#"$dir"/}
    case $rel in */.*) continue ;; esac  # a temporary file being written
    key="$prefix$rel"
    case $key in *[!A-Za-z0-9._/-]*) die "$key: only letters, digits and . _ / - are supported in keys" ;; esac
    sum=$(sha256 "$file")
    size=$(wc -c <"$file" | tr -d ' ')
    code=$(s3 "$base/$key" -I -o "$tmp/head" -H "x-amz-content-sha256: $EMPTY_SHA256") || die "HEAD s3://$bucket/$key: curl failed"
    if [ "$code" = 200 ] && grep -qi "^x-amz-meta-sha256: *$sum" "$tmp/head"; then
        echo "skipped  s3://$bucket/$key (same sha256 $sum)"
        skipped=$((skipped + 1))
        continue
    fi
    [ "$code" != 403 ] || die "HEAD s3://$bucket/$key: HTTP 403: check ORION_S3_ACCESS_KEY, ORION_S3_SECRET_KEY and ORION_S3_REGION"
    [ "$code" = 200 ] || [ "$code" = 404 ] || die "HEAD s3://$bucket/$key: HTTP $code"
    code=$(s3 "$base/$key" -T "$file" -o "$tmp/body" \
        -H "x-amz-content-sha256: $sum" -H "x-amz-meta-sha256: $sum") \
        || die "PUT s3://$bucket/$key: curl failed"
    [ "$code" = 200 ] || die "PUT s3://$bucket/$key: HTTP $code: $(head -c 500 "$tmp/body")"
    echo "uploaded s3://$bucket/$key ($size bytes, sha256 $sum)"
    uploaded=$((uploaded + 1))
done < <(find "$dir/landing" -type f -print0 | LC_ALL=C sort -z)
echo "done: $uploaded uploaded, $skipped skipped"
