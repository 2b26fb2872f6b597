#!/usr/bin/env python3
"""Writes SigV4 test vectors that the captured client traffic lacks, signed by botocore itself
(the signer every boto3 and AWS CLI call uses): a presigned URL (SigV4QueryAuth), a request
with temporary credentials (X-Amz-Security-Token) and a GET with a query string that needs
encoding. Each file has the layout of tests/fixtures/wire (request.method/target/path/query/
headers/body) plus "secret_key" and "session_token".

    python3 tools/make_sigv4_vectors.py [OUT_DIR]   (default: tests/fixtures/sigv4)

The files are data, kept in the repository; run this again only to add vectors."""

import json
import os
import sys
import urllib.parse

from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
HOST = "127.0.0.1:9324"


def record(request, session_token=""):
    url = urllib.parse.urlsplit(request.url)
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode()
    target = url.path + ("?" + url.query if url.query else "")
    headers = [["Host", HOST]] + [[k, v] for k, v in request.headers.items() if k != "Host"]
    return {"request": {"method": request.method, "target": target, "path": url.path,
                        "query": url.query, "headers": headers, "body": body.decode()},
            "secret_key": SECRET_KEY, "session_token": session_token}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "sigv4")
    os.makedirs(out, exist_ok=True)
    vectors = {}

    form = "Action=ListQueues&Version=2012-11-05&QueueNamePrefix=a%20b"
    presign = AWSRequest(method="GET", url="http://%s/?Action=ListQueues&Version=2012-11-05" % HOST)
    SigV4QueryAuth(Credentials(ACCESS_KEY, SECRET_KEY), "sqs", "us-east-1", expires=900).add_auth(
        presign)
    vectors["presigned-get"] = record(presign)

    token = "FwoGZXIvYXdzEXAMPLE//session+token=="
    temporary = AWSRequest(method="POST", url="http://%s/" % HOST, data=form,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY, token), "sqs", "us-east-1").add_auth(temporary)
    vectors["session-token"] = record(temporary, token)

    query = AWSRequest(method="GET", url="http://%s/000000000000/q%%20x?Action=GetQueueAttributes"
                       "&AttributeName.1=All&Version=2012-11-05&Extra=%%E2%%9C%%93~%%2A" % HOST)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "sqs", "eu-west-1").add_auth(query)
    vectors["encoded-get"] = record(query)

    for name, vector in vectors.items():
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump(vector, f, indent=1)
            f.write("\n")
    print("wrote %d vectors to %s" % (len(vectors), out))


if __name__ == "__main__":
    main()
