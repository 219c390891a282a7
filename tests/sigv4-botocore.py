#!/usr/bin/env python3
"""Signs several hundred generated S3 requests with Mealtrace and with
botocore (AWS's own Python signer) at the same instant, and checks that the
Authorization headers and presigned URLs agree byte for byte. Then asks
Mealtrace's S3 client itself for presigned URLs of generated object keys
(AWS hosts virtual-hosted and path style, custom endpoints with ports and
paths) and checks them against botocore's for the same object.

Usage: sigv4-botocore.py SIGV4_SIGN_PROGRAM [COUNT]
The seed is random each run and printed; MT_SIGV4_SEED=N repeats a run.
Fails when botocore is missing: build-aux/test installs it.
"""

import json
import os
import random
import subprocess
import sys

try:
    from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SIGV4_TIMESTAMP
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from botocore.utils import percent_encode, percent_encode_sequence
    import botocore
except ImportError as error:
    print(f"botocore is not available ({error}); install python3-botocore (build-aux/test does)")
    sys.exit(1)

import datetime

# Pieces of object keys and query values that trip signers up.
KEY_PIECES = [
    "meal", "images", "user-1", "2025", "lunch.jpg", "a", "Z", "0", " ", "  ", "+", "%",
    "%20", "%2F", "~", "-", "_", ".", "..", "/", "//", "=", "&", "?", "#", "!", "'", "(",
    ")", "*", ",", ";", ":", "@", "$", "[", "]", "é", "phở", "日本", "🍜", "\u00a0",
    "ü", "tab\t", "x.JPG", "cơm tấm", "%25", "a+b", "1=2",
]
VALUE_PIECES = KEY_PIECES + [
    "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=", "==", "/", "a/b=c",
]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-1", "us-west-2"]
ENDPOINTS = [None, None, "http://127.0.0.1:9000", "https://minio.example.com",
             "https://storage.example.com:8443/s3/", "http://[::1]:9000", "https://s3.example.com:443"]
BUCKETS = ["meals", "meal-photos", "meal.photos.example", "service-dietfit-20250526115059333100000001"]


def random_text(rng, pieces, low, high):
    return "".join(rng.choice(pieces) for _ in range(rng.randint(low, high)))


def generate(rng, index):
    bucket = rng.choice(["meals", "meal-photos", "service-dietfit-20250526115059333100000001"])
    region = rng.choice(REGIONS)
    virtual = rng.random() < 0.5
    key = random_text(rng, KEY_PIECES, 1, 8)
    if virtual:
        host = f"{bucket}.s3.{region}.amazonaws.com"
        path = "/" + percent_encode(key, safe="/~")
    else:
        host = f"s3.{region}.amazonaws.com"
        path = "/" + bucket + "/" + percent_encode(key, safe="/~")

    params = {}
    if rng.random() < 0.6:
        params["list-type"] = "2"
        params["prefix"] = random_text(rng, KEY_PIECES, 0, 4)
        if rng.random() < 0.5:
            params["continuation-token"] = random_text(rng, VALUE_PIECES, 1, 3)
        if rng.random() < 0.5:
            params["encoding-type"] = "url"
        params["max-keys"] = str(rng.choice([1, 1000]))
    if rng.random() < 0.3:
        params["x-id"] = random_text(rng, VALUE_PIECES, 1, 3)
    query = percent_encode_sequence(params) if params else ""

    token = None
    if rng.random() < 0.4:
        token = "IQoJb3JpZ2luX2VjE" + "".join(
            rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
            for _ in range(rng.randint(20, 300))) + rng.choice(["", "=", "=="])
    return {
        "method": "GET",
        "host": host,
        "path": path,
        "query": query,
        "access_key": "AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16)),
        "secret_key": "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
                              for _ in range(40)),
        "token": token,
        "region": region,
        "time": rng.randint(1420070400, 1893456000),  # 2015 to 2030
        "expires": rng.choice([1, 60, 3600, 86400, 604800]),
    }


def generate_object(rng):
    """An object for the S3 client to presign, and the URL S3 addresses it by."""
    bucket = rng.choice(BUCKETS)
    region = rng.choice(REGIONS)
    endpoint = rng.choice(ENDPOINTS)
    key = random_text(rng, KEY_PIECES, 1, 8)
    encoded = percent_encode(key, safe="/~")
    if endpoint is None:
        if "." in bucket:
            base = f"https://s3.{region}.amazonaws.com/{bucket}"
        else:
            base = f"https://{bucket}.s3.{region}.amazonaws.com"
    else:
        scheme, rest = endpoint.split("://", 1)
        hostport, _, path = rest.partition("/")
        if hostport.endswith(":443") and scheme == "https":
            hostport = hostport[:-4]
        path = path.rstrip("/")
        base = f"{scheme}://{hostport}" + (f"/{path}" if path else "") + f"/{bucket}"
    req = generate(rng, 0)
    return {
        "key": key,
        "bucket": bucket,
        "endpoint_url": endpoint,
        "access_key": req["access_key"],
        "secret_key": req["secret_key"],
        "token": req["token"],
        "region": region,
        "time": req["time"],
        "expires": req["expires"],
    }, base + "/" + encoded


def signed(auth, method, url, time):
    """botocore's add_auth on @method @url, with the instant fixed instead of read from the clock."""
    request = AWSRequest(method=method, url=url, headers={})
    request.context["timestamp"] = datetime.datetime.fromtimestamp(time, datetime.timezone.utc).strftime(SIGV4_TIMESTAMP)
    auth._modify_request_before_signing(request)
    canonical = auth.canonical_request(request)
    string_to_sign = auth.string_to_sign(request, canonical)
    auth._inject_signature_to_request(request, auth.signature(string_to_sign, request))
    return request


def botocore_presign(obj, url):
    """botocore's presigned URL for @url, at the object's instant."""
    creds = Credentials(obj["access_key"], obj["secret_key"], obj["token"])
    return signed(S3SigV4QueryAuth(creds, "s3", obj["region"], expires=obj["expires"]), "GET", url, obj["time"]).url


def botocore_sign(req):
    """The headers of the request signed by botocore, and its presigned URL."""
    url = "https://" + req["host"] + req["path"] + ("?" + req["query"] if req["query"] else "")
    creds = Credentials(req["access_key"], req["secret_key"], req["token"])
    header = signed(S3SigV4Auth(creds, "s3", req["region"]), req["method"], url, req["time"])
    query = signed(S3SigV4QueryAuth(creds, "s3", req["region"], expires=req["expires"]), req["method"], url,
                   req["time"])
    headers = {name.lower(): value for name, value in header.headers.items()}
    return headers, query.url


def main():
    program = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    seed = int(os.environ.get("MT_SIGV4_SEED", random.SystemRandom().randrange(1 << 30)))
    rng = random.Random(seed)
    requests = [generate(rng, i) for i in range(count)]
    objects = [generate_object(rng) for _ in range(count // 2)]

    lines = [json.dumps(r) for r in requests] + [json.dumps(o) for o, _ in objects]
    out = subprocess.run([program], input="\n".join(lines) + "\n", capture_output=True, text=True, check=True)
    answers = [json.loads(line) for line in out.stdout.splitlines()]
    if len(answers) != len(lines):
        print(f"{program} answered {len(answers)} lines of {len(lines)}")
        return 1
    ours, client_urls = answers[:count], answers[count:]

    failures = 0
    for req, mine in zip(requests, ours):
        headers, url = botocore_sign(req)
        for name in ("authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"):
            if headers.get(name) != mine["headers"].get(name):
                failures += 1
                print(f"header {name} differs for {req['host']}{req['path']}?{req['query']}")
                print(f"  botocore: {headers.get(name)}\n  mealtrace: {mine['headers'].get(name)}")
        if url != mine["url"]:
            failures += 1
            print(f"presigned URL differs for {req['host']}{req['path']}?{req['query']}")
            print(f"  botocore: {url}\n  mealtrace: {mine['url']}")

    for (obj, url), mine in zip(objects, client_urls):
        expected = botocore_presign(obj, url)
        if expected != mine["url"]:
            failures += 1
            print(f"the client's presigned URL differs for key {obj['key']!r} in {obj['bucket']} "
                  f"at {obj['endpoint_url'] or 'AWS'}")
            print(f"  botocore: {expected}\n  mealtrace: {mine['url']}")

    print(f"botocore {botocore.__version__}, seed {seed}: {count} requests, "
          f"{2 * count} signatures, {len(objects)} presigned URLs from the S3 client, {failures} differences")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
