#!/usr/bin/env python3
"""api_openapi_check.py: checks a running lodestone server against proto/openapi.yaml.

usage: api_openapi_check.py OPENAPI.yaml BASE_URL OPS_KEY READY_ASSET_ID UPLOAD_FILE

1. Every path + method of the document is requested (ops key, the ready asset, level 0, index 0,
   from=1, a real upload for POST /v1/assets): the status must be one the document lists for
   it, the Content-Type one it lists for that status, and a JSON body must have the documented
   required fields and types (the subset of JSON Schema the document uses: type, required,
   properties, items, enum, nullable, $ref).
2. Operations that need a key are requested without one: 401 must be documented, with the
   Error body.
3. Routes the server answers: a list of candidate paths (the document's, DESIGN.md 6.6's and a
   few more) with GET, POST, PUT, DELETE and PATCH; every one answered with something other than
   404 must be in the document.
Exit 0 when all holds, 1 otherwise (each problem printed), 77 when PyYAML is missing.
"""
import io
import json
import tarfile
import re
import sys
import urllib.error
import urllib.request

try:
    import yaml
except ImportError:
    print("SKIP: PyYAML is not installed (Debian package python3-yaml)")
    sys.exit(77)

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
problems = []


def problem(text):
    problems.append(text)
    print("FAIL: " + text)


def resolve(doc, node):
    seen = 0
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError("external $ref not supported: " + ref)
        node = doc
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        seen += 1
        if seen > 32:
            raise ValueError("$ref loop at " + ref)
    return node


def validate(doc, value, schema, where):
    schema = resolve(doc, schema)
    if value is None:
        if not schema.get("nullable", False) and schema:
            problem("%s: null but the schema does not allow it" % where)
        return
    kind = schema.get("type")
    checks = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
    }
    if kind in checks and not checks[kind](value):
        problem("%s: expected %s, got %s" % (where, kind, json.dumps(value)[:80]))
        return
    if "enum" in schema and value not in schema["enum"]:
        problem("%s: %r is not one of %s" % (where, value, schema["enum"]))
    if isinstance(value, dict):
        for name in schema.get("required", []):
            if name not in value:
                problem("%s: required field '%s' is missing" % (where, name))
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                validate(doc, value[name], sub, where + "." + name)
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            validate(doc, item, schema["items"], "%s[%d]" % (where, i))


def request(method, url, key=None, body=None, content_type=None):
    headers = {}
    if key:
        headers["Authorization"] = "Bearer " + key
    if content_type:
        headers["Content-Type"] = content_type
    req = urllib.request.Request(url, data=body, method=method.upper(), headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def check_response(doc, op, label, status, headers, body):
    responses = op.get("responses", {})
    spec = responses.get(str(status), responses.get("%dXX" % (status // 100), responses.get("default")))
    if spec is None:
        problem("%s: status %d is not documented (documented: %s)" % (label, status, ", ".join(responses)))
        return
    spec = resolve(doc, spec)
    content = spec.get("content")
    ctype = (headers.get("Content-Type") or "").split(";")[0].strip()
    if not content:
        return
    if ctype not in content:
        if body:
            problem("%s: %d with Content-Type '%s', documented: %s" % (label, status, ctype, ", ".join(content)))
        return
    schema = content[ctype].get("schema")
    if ctype == "application/json" and schema is not None:
        try:
            value = json.loads(body)
        except ValueError:
            problem("%s: %d body is not JSON: %r" % (label, status, body[:80]))
            return
        validate(doc, value, schema, "%s %d body" % (label, status))


def template_regex(path):
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")


def main():
    if len(sys.argv) != 6:
        print(__doc__)
        return 2
    spec_path, base, key, asset, upload = sys.argv[1:]
    with open(spec_path) as f:
        doc = yaml.safe_load(f)
    with open(upload, "rb") as f:
        upload_bytes = f.read()
    global_security = doc.get("security", [])
    values = {"id": asset, "level": "0", "index": "0", "n": "0", "path": "three/build/three.module.js"}
    # a preview token for the token-scoped routes
    status, _, data = request("post", "%s/v1/assets/%s/preview" % (base, asset), key)
    token = json.loads(data).get("token", "x") if status == 201 else "x"
    samples = {"from": "1", "token": token, "asset": asset, "filename": "openapi-check.ply"}
    deposit_id = "x"
    collection_id = "x"
    checked = 0

    # 1 and 2: every documented operation
    for path, item in doc["paths"].items():
        common = item.get("parameters", [])
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            label = "%s %s" % (method.upper(), path)
            params = [resolve(doc, p) for p in common + op.get("parameters", [])]
            names = dict(values, id=deposit_id) if path.startswith("/v1/deposits/") else values
            if path.startswith("/v1/collections/"):
                names = dict(values, id=collection_id)
            url_path = re.sub(r"\{([^}]+)\}", lambda m: names.get(m.group(1), "x"), path)
            query = []
            for p in params:
                if p.get("in") == "query" and p.get("required"):
                    query.append("%s=%s" % (p["name"], samples.get(p["name"], "1")))
            body, ctype = None, None
            if "requestBody" in op:
                kinds = op["requestBody"].get("content", {})
                if path == "/v1/assets":
                    query += ["filename=openapi-check.ply", "title=OpenAPI", "license=CC0-1.0"]
                    body, ctype = upload_bytes, "application/octet-stream"
                elif path == "/v1/deposits":  # a one-model tar archive
                    archive = io.BytesIO()
                    with tarfile.open(fileobj=archive, mode="w") as tar:
                        member = tarfile.TarInfo("openapi-check.ply")
                        member.size = len(upload_bytes)
                        tar.addfile(member, io.BytesIO(upload_bytes))
                    query = [q for q in query if not q.startswith("filename=")] + ["filename=openapi-check.tar"]
                    body, ctype = archive.getvalue(), "application/octet-stream"
                elif "application/octet-stream" in kinds:  # /v1/ops/trace: a model as the suspect
                    body, ctype = upload_bytes, "application/octet-stream"
                elif "application/json" in kinds:
                    sample = {"/v1/ops/reprocess": {"assets": [asset]},
                              "/v1/assets/{id}/licenses": {"holder": "openapi-check", "tier": "standard"},
                              "/v1/collections": {"title": "OpenAPI", "assets": [asset]},
                              "/v1/events": [{"asset": asset, "type": "view"}]}.get(path, {})
                    body, ctype = json.dumps(sample).encode(), "application/json"
            url = base + url_path + ("?" + "&".join(query) if query else "")
            secured = op.get("security", global_security)
            status, headers, data = request(method, url, key if secured else None, body, ctype)
            print("%s -> %d" % (label, status))
            if path == "/v1/deposits" and status == 202:
                deposit_id = json.loads(data)["deposit"]["id"]
            if path == "/v1/collections" and method == "post" and status == 201:
                collection_id = json.loads(data)["id"]
            if status >= 400:
                problem("%s: the sample request failed with %d: %r" % (label, status, data[:200]))
            check_response(doc, op, label, status, headers, data)
            checked += 1
            if secured:
                status, headers, data = request(method, url, None, body, ctype)
                print("%s without a key -> %d" % (label, status))
                if status != 401:
                    problem("%s: without a key: %d, expected 401" % (label, status))
                check_response(doc, op, label + " (no key)", status, headers, data)

    # 3: every route the server answers is documented
    templates = [(template_regex(p), p, item) for p, item in doc["paths"].items()]
    candidates = ["/", "/healthz", "/metrics", "/v1", "/v1/assets", "/v1/assets/%s" % asset,
                  "/v1/assets/%s/lods/0" % asset, "/v1/assets/%s/lods" % asset,
                  "/v1/assets/%s/certificate" % asset, "/v1/assets/%s/valuation" % asset,
                  "/v1/assets/%s/similar" % asset, "/v1/assets/%s/preview" % asset, "/v1/log",
                  "/v1/log/checkpoint", "/v1/log/key", "/v1/log/proof/0", "/v1/log/consistency?from=1",
                  "/v1/deposits", "/v1/deposits/d_0", "/v1/events", "/v1/ops", "/v1/ops/queues",
                  "/v1/ops/reprocess", "/v1/ops/dead", "/openapi.yaml", "/v1/openapi.yaml",
                  "/catalogue", "/v1/collections", "/v1/collections/c_0", "/v1/assets/%s/licenses" % asset,
                  "/v1/assets/%s/lineage" % asset, "/v1/assets/%s/thumbnails/0" % asset]
    for candidate in candidates:
        for method in ("get", "post", "put", "delete", "patch"):
            body = b"{}" if method in ("post", "put", "patch") else None
            status, _, data = request(method, base + candidate, key, body, "application/json" if body else None)
            if status == 404:
                continue
            path = candidate.split("?")[0]
            documented = [p for rx, p, item in templates if rx.match(path) and method in item]
            if not documented:
                problem("%s %s answers %d but is not in the document" % (method.upper(), path, status))
            else:
                print("%s %s -> %d (documented as %s)" % (method.upper(), path, status, documented[0]))

    print("%d operations checked, %d problem(s)" % (checked, len(problems)))
    return 1 if problems or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
