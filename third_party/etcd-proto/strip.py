#!/usr/bin/env python3
"""Copies etcd's v3 .proto files out of Debian's golang-etcd-server-dev, stripped of what stock
protoc cannot resolve (gogoproto options, grpc-gateway's google.api.http annotations).
Run once by hand when updating the vendored copy; the build uses the stripped files in this folder.
Usage: strip.py [/usr/share/gocode/src/go.etcd.io/etcd]"""
import pathlib
import re
import sys

SRC = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/gocode/src/go.etcd.io/etcd")
HERE = pathlib.Path(__file__).resolve().parent
# Kept at the import paths rpc.proto names ("etcd/mvcc/mvccpb/kv.proto"), so its imports need no edit.
FILES = {
    "etcdserver/etcdserverpb/rpc.proto": "etcd/etcdserver/etcdserverpb/rpc.proto",
    "mvcc/mvccpb/kv.proto": "etcd/mvcc/mvccpb/kv.proto",
    "auth/authpb/auth.proto": "etcd/auth/authpb/auth.proto",
}


def strip(text: str) -> str:
    out, depth = [], 0
    for line in text.splitlines():
        if depth:  # inside an `option (google.api.http) = { ... };` block
            depth += line.count("{") - line.count("}")
            continue
        if re.match(r'\s*import "(gogoproto/gogo|google/api/annotations)\.proto";', line):
            continue
        if re.match(r"\s*option \(gogoproto\.[a-z_]+\) = \w+;", line):
            continue
        if re.match(r"\s*option \(google\.api\.http\) = \{", line):
            depth = line.count("{") - line.count("}")
            continue
        if "gogoproto" in line or "google.api" in line:
            sys.exit(f"unhandled annotation, extend strip.py: {line.strip()}")
        out.append(line)
    return "\n".join(out) + "\n"


for src, dst in FILES.items():
    target = HERE / dst
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(strip((SRC / src).read_text()))
    print(f"{SRC / src} -> {target}")
