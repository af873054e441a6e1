#!/usr/bin/env python3
"""An independent verifier of lodestone certificate bundles, written only from the public specs:
DSSE v1 (PAE, Ed25519 signature), in-toto Statement v1, RFC 9162 section 2.1.3.2 (inclusion
proof verification), C2SP signed-note and tlog-checkpoint. It shares no code with lodestone.

usage: verify_certificate.py BUNDLE VERIFIER_KEY_FILE
exit 0 and "valid ..." on stdout, or exit 1 and the reason on stderr.
Needs python3-cryptography (Debian) for Ed25519.
"""
import base64
import binascii
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class Invalid(Exception):
    pass


def b64(text):
    """Strict standard base64 (RFC 4648 section 4): the one canonical spelling only."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise Invalid("bad base64: %s" % e)
    if base64.b64encode(raw).decode() != text:
        raise Invalid("non-canonical base64")
    return raw


def parse_vkey(text):
    """C2SP signed-note verifier key: <name>+<hex key id>+<base64(0x01 || key)>."""
    name, key_id_hex, key_b64 = text.strip().split("+", 2)
    key = b64(key_b64)
    if len(key) != 33 or key[0] != 0x01:
        raise Invalid("verifier key is not an Ed25519 key")
    key_id = hashlib.sha256(name.encode() + b"\n" + key).digest()[:4]
    if key_id.hex() != key_id_hex:
        raise Invalid("verifier key id does not match")
    return name, key_id, key[1:]


def ed25519_ok(public_key, sig, message):
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(sig, message)
        return True
    except InvalidSignature:
        return False


def pae(payload_type, body):
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def verify_note(note, name, key_id, public_key):
    """C2SP signed-note: returns the signed text."""
    if not note.endswith("\n"):
        raise Invalid("note does not end in a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise Invalid("note holds control characters")
    sep = note.rfind("\n\n")
    if sep < 0:
        raise Invalid("note has no signature block")
    text, sig_block = note[: sep + 1], note[sep + 2 :]
    good = 0
    lines = sig_block.split("\n")[:-1]
    if not lines:
        raise Invalid("note has no signatures")
    for line in lines:
        if not line.startswith("\u2014 "):
            raise Invalid("malformed signature line")
        sig_name, _, sig_b64 = line[2:].partition(" ")
        sig = b64(sig_b64)
        if sig_name != name or sig[:4] != key_id:
            continue
        if len(sig) != 68 or not ed25519_ok(public_key, sig[4:], text.encode()):
            raise Invalid("checkpoint signature does not verify")
        good += 1
    if not good:
        raise Invalid("checkpoint is not signed by the key")
    return text


def parse_checkpoint(text):
    lines = text.split("\n")
    origin, size, root = lines[0], lines[1], lines[2]
    if not size.isdigit() or (size != "0" and size.startswith("0")):
        raise Invalid("checkpoint size is not decimal")
    root = b64(root)
    if len(root) != 32:
        raise Invalid("checkpoint root is not 32 bytes")
    return origin, int(size), root


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(index, size, leaf, proof, root):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        raise Invalid("index past the tree size")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if len(p) != 32:
            raise Invalid("proof hash is not 32 bytes")
        if sn == 0:
            raise Invalid("proof too long")
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or r != root:
        raise Invalid("inclusion proof does not lead to the checkpoint root")


def verify(bundle_text, vkey_text):
    name, key_id, public_key = parse_vkey(vkey_text)
    bundle = json.loads(bundle_text)
    if bundle["mediaType"] != "application/vnd.lodestone.certificate+json;version=1":
        raise Invalid("wrong mediaType")
    env = bundle["dsseEnvelope"]
    if env["payloadType"] != "application/vnd.in-toto+json":
        raise Invalid("wrong payloadType")
    body = b64(env["payload"])
    message = pae(env["payloadType"], body)
    keyid = "%s+%s" % (name, key_id.hex())
    signed = False
    for s in env["signatures"]:
        if s["keyid"] != keyid:
            continue
        sig = b64(s["sig"])
        if len(sig) != 64 or not ed25519_ok(public_key, sig, message):
            raise Invalid("DSSE signature does not verify")
        signed = True
    if not signed:
        raise Invalid("no DSSE signature by the key")
    statement = json.loads(body)
    if statement["_type"] != "https://in-toto.io/Statement/v1":
        raise Invalid("not an in-toto Statement v1")
    if statement["predicateType"] != "https://lodestone.example/birth-certificate/v1":
        raise Invalid("wrong predicateType")
    log = bundle["log"]
    text = verify_note(log["checkpoint"], name, key_id, public_key)
    origin, size, root = parse_checkpoint(text)
    if origin != log["origin"] or size != log["treeSize"]:
        raise Invalid("checkpoint does not match log.origin / log.treeSize")
    index = log["index"]
    if type(index) is not int or type(log["treeSize"]) is not int:
        raise Invalid("index or treeSize is not an integer")
    leaf = hashlib.sha256(b"\x00" + message).digest()
    verify_inclusion(index, size, leaf, [b64(p) for p in log["inclusionProof"]], root)
    geometry = [s["digest"].get("lds-geom-1") for s in statement["subject"] if "lds-geom-1" in s["digest"]]
    # owner: the account the service authenticated; claimed_owner: what the uploader typed (unverified)
    predicate = statement.get("predicate", {})
    return index, size, origin, geometry, predicate.get("owner"), predicate.get("claimed_owner")


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(sys.argv[1], "rb") as f:
            bundle = f.read().decode("utf-8")
        with open(sys.argv[2]) as f:
            vkey = f.read()
        index, size, origin, geometry, owner, claimed = verify(bundle, vkey)
    except (Invalid, KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
        print("invalid: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1
    print("valid: %s entry %d of %d, geometry %s" % (origin, index, size, ",".join(geometry)))
    if owner is not None:
        print("owner: %s%s" % (owner, ' (claimed owner "%s", not verified)' % claimed if claimed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
