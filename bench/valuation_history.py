#!/usr/bin/env python3
"""valuation_history.py: the Bar's shape on a synthetic marketplace listings history.

Generates a realistic listings export (categories with their own polygon-count ranges and price
levels, textures, PBR, rig and animation flags, formats, tags, licences, publication dates, views,
favourites and downloads driven by a hidden per-listing appeal, prices with log-normal noise on
marketplace price points, some free listings, some fields missing and some lines malformed), fits
on the first part with `lodestone valuation fit --history`, values the rest with
`lodestone value --listing`, and reports Spearman's rank correlation between the predicted mid and
the listed price, the median |log(predicted/listed)|, and how often the listed price falls inside
the band against its stated coverage; beside it a plain ridge regression on the same listed
characteristics (one-hot category, log counts, flags), fitted on the same part.

usage: valuation_history.py LODESTONE_BIN [--listings N] [--seed S] [--workdir DIR]
"""
import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile

CATEGORIES = {
    # name: (share, log10 triangles mean, sd, base price USD, rig prob, pbr prob, tri elasticity)
    "character": (0.16, 4.5, 0.45, 45.0, 0.55, 0.6, 0.30),
    "vehicle": (0.12, 4.9, 0.40, 60.0, 0.05, 0.65, 0.35),
    "prop": (0.20, 3.4, 0.50, 9.0, 0.02, 0.45, 0.12),
    "architecture": (0.10, 4.6, 0.60, 30.0, 0.0, 0.35, 0.10),
    "furniture": (0.12, 3.9, 0.45, 15.0, 0.0, 0.55, 0.15),
    "weapon": (0.08, 3.9, 0.40, 20.0, 0.10, 0.70, 0.20),
    "plant": (0.08, 4.1, 0.55, 12.0, 0.0, 0.40, 0.08),
    "creature": (0.06, 4.6, 0.45, 55.0, 0.60, 0.55, 0.25),
    "scan": (0.08, 5.8, 0.50, 25.0, 0.0, 0.30, 0.05),
}
PRICE_POINTS = [1.99, 2.99, 4.99, 6.99, 9.99, 12.99, 14.99, 19.99, 24.99, 29.99, 34.99, 39.99, 49.99, 59.99,
                69.99, 79.99, 89.99, 99.99, 119.0, 149.0, 179.0, 199.0, 249.0, 299.0, 349.0, 399.0, 499.0]
FORMATS = ["fbx", "obj", "glb", "blend", "max", "c4d", "ma", "usdz", "stl"]
LICENSES = ["royalty-free", "royalty-free", "royalty-free", "editorial", "CC-BY-4.0"]
NOW = "2026-12-01"
NOISE = 0.6  # log-price noise sd (--noise)


NOUNS = {"character": ["soldier", "girl", "knight", "robot", "man"], "vehicle": ["car", "truck", "tank", "jet"],
         "prop": ["barrel", "crate", "bottle", "lamp", "book"], "architecture": ["house", "tower", "bridge", "church"],
         "furniture": ["chair", "sofa", "table", "bed"], "weapon": ["rifle", "sword", "pistol", "axe"],
         "plant": ["tree", "bush", "flower", "grass"], "creature": ["dragon", "wolf", "monster", "horse"],
         "scan": ["statue", "rock", "bust", "relief"]}


def title(rnd, name, tris, tmean, appeal, rigged, pbr):
    """How sellers title listings: the noun, and words that go with what the listing is."""
    words = [rnd.choice(NOUNS[name])]
    if tris < 10 ** (tmean - 0.4) and rnd.random() < 0.6:
        words.insert(0, rnd.choice(["low poly", "lowpoly", "simple"]))
    if appeal > 0.7 and rnd.random() < 0.5:
        words.insert(0, rnd.choice(["realistic", "highly detailed", "photoreal", "AAA"]))
    if pbr and rnd.random() < 0.4:
        words.append(rnd.choice(["PBR", "4K textures", "game ready"]))
    if rigged and rnd.random() < 0.6:
        words.append("rigged")
    if rnd.random() < 0.2:
        words.append(rnd.choice(["free", "pack", "collection", "sci-fi", "medieval", "stylized"]))
    return " ".join(words)


def snap(price):
    return min(PRICE_POINTS, key=lambda p: abs(math.log(p / price)))


def make_listing(i, rnd):
    r = rnd.random()
    for name, spec in CATEGORIES.items():
        r -= spec[0]
        if r <= 0:
            break
    share, tmean, tsd, base, rig_p, pbr_p, elasticity = spec
    appeal = rnd.gauss(0, 1)  # hidden: craft, style, usefulness
    tris = int(10 ** rnd.gauss(tmean + 0.15 * appeal, tsd))
    rigged = rnd.random() < rig_p
    animated = rigged and rnd.random() < 0.5
    pbr = rnd.random() < min(0.95, pbr_p + 0.1 * appeal)
    has_uvs = pbr or rnd.random() < 0.8
    textures = (rnd.randint(3, 6) if pbr else rnd.randint(0, 2)) if has_uvs else 0
    formats = rnd.sample(FORMATS, rnd.randint(1, 5))
    tags = ["tag%d" % rnd.randint(0, 500) for _ in range(rnd.randint(0, 12))]
    age_days = rnd.randint(10, 2500)
    y, m, d = 2026, 12, 1
    pub_ord = (2026 * 365 + 335) - age_days
    published = "%04d-%02d-%02d" % (pub_ord // 365, (pub_ord % 365) // 31 + 1 if (pub_ord % 365) // 31 < 12 else 12,
                                    (pub_ord % 365) % 28 + 1)
    lic = rnd.choice(LICENSES)
    # price: category level, triangle count (category-specific elasticity around its typical
    # count), rig/animation/PBR premiums (larger for characters and creatures), appeal, noise
    rig_premium = 0.55 if name in ("character", "creature") else 0.2
    logp = (math.log(base) + elasticity * math.log(max(tris, 10) / 10 ** tmean) + rig_premium * rigged +
            0.25 * animated + (0.35 if name in ("vehicle", "weapon", "character") else 0.15) * pbr +
            0.05 * len(formats) + 0.45 * appeal - 0.4 * (lic == "CC-BY-4.0") + rnd.gauss(0, NOISE))
    price = snap(math.exp(logp))
    if rnd.random() < 0.06:
        price = 0.0  # free listings
    # engagement: exposure grows with age, appeal lifts views and conversion; price lowers downloads
    views = int(rnd.lognormvariate(math.log(40 + age_days * 1.5) + 0.8 * appeal, 0.7))
    fav_rate = min(0.5, 0.02 * math.exp(0.6 * appeal + rnd.gauss(0, 0.4)))
    dl_rate = min(0.8, 0.03 * math.exp(0.5 * appeal - 0.25 * math.log1p(price) + rnd.gauss(0, 0.4)))
    favorites = sum(1 for _ in range(min(views, 2000)) if rnd.random() < fav_rate) * max(1, views // 2000)
    downloads = sum(1 for _ in range(min(views, 2000)) if rnd.random() < dl_rate) * max(1, views // 2000)
    rec = {"id": "L%05d" % i, "category": name, "title": title(rnd, name, tris, tmean, appeal, rigged, pbr),
           "tags": tags, "license": lic,
           "triangles": tris, "vertices": int(tris * rnd.uniform(0.5, 0.6)), "has_uvs": has_uvs,
           "textures": textures, "pbr": pbr, "rigged": rigged, "animated": animated, "formats": formats,
           "published": published, "views": views, "favorites": favorites, "downloads": downloads,
           "price": price, "currency": "USD"}
    for key in ("vertices", "textures", "favorites", "published", "animated"):  # exports miss fields
        if rnd.random() < 0.04:
            del rec[key]
    return rec


def malformed(rnd, rec):
    kind = rnd.randint(0, 3)
    if kind == 0:
        return json.dumps(rec)[: rnd.randint(5, 40)]  # truncated line
    rec = dict(rec)
    if kind == 1:
        rec["triangles"] = "many"
    elif kind == 2:
        rec["published"] = "last year"
    else:
        rec["price"] = -5
    return json.dumps(rec)


def ranks(values):
    order = sorted(range(len(values)), key=lambda i: values[i])
    r = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2.0
        i = j + 1
    return r


def spearman(a, b):
    ra, rb = ranks(a), ranks(b)
    n = len(a)
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = math.sqrt(sum((x - ma) ** 2 for x in ra))
    vb = math.sqrt(sum((y - mb) ** 2 for y in rb))
    return cov / (va * vb)


def median(v):
    s = sorted(v)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def plain_features(rec, cats):
    def num(k):
        v = rec.get(k)
        return math.log1p(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else 0.0

    def flag(k):
        return 1.0 if rec.get(k) is True else 0.0

    x = [1.0, num("triangles"), num("textures"), flag("pbr"), flag("rigged"), flag("animated"), flag("has_uvs"),
         num("views"), num("favorites"), num("downloads"), float(len(rec.get("formats", [])))]
    x += [1.0 if rec.get("category") == c else 0.0 for c in cats]
    return x


def solve(a, b):
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        for r in range(n):
            if r != c and m[r][c] != 0:
                f = m[r][c] / m[c][c]
                for k in range(c, n + 1):
                    m[r][k] -= f * m[c][k]
    return [m[i][n] / m[i][i] for i in range(n)]


def plain_ridge(train, test, lam=1.0):
    cats = sorted(CATEGORIES)
    xs = [plain_features(r, cats) for r in train]
    ys = [math.log(r["price"]) for r in train]
    d = len(xs[0])
    a = [[sum(x[i] * x[j] for x in xs) + (lam if i == j and i > 0 else 0.0) for j in range(d)] for i in range(d)]
    b = [sum(x[i] * y for x, y in zip(xs, ys)) for i in range(d)]
    beta = solve(a, b)
    return [math.exp(sum(bi * xi for bi, xi in zip(beta, plain_features(r, cats)))) for r in test]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("lodestone")
    ap.add_argument("--listings", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--workdir")
    ap.add_argument("--noise", type=float, default=0.6, help="log-price noise sd")
    args = ap.parse_args()
    global NOISE
    NOISE = args.noise
    rnd = random.Random(args.seed)
    work = args.workdir or tempfile.mkdtemp(prefix="lds-valuation-history-")
    os.makedirs(work, exist_ok=True)
    records = [make_listing(i, rnd) for i in range(args.listings)]
    cut = int(len(records) * 0.75)
    train, test = records[:cut], [r for r in records[cut:] if r["price"] > 0]
    bad = 0
    with open(os.path.join(work, "train.jsonl"), "w") as f:
        for rec in train:
            if rnd.random() < 0.01:
                f.write(malformed(rnd, rec) + "\n")
                bad += 1
            else:
                f.write(json.dumps(rec) + "\n")
    with open(os.path.join(work, "test.jsonl"), "w") as f:
        for rec in test:
            f.write(json.dumps(rec) + "\n")
    env = dict(os.environ, LODESTONE_HOME=os.path.join(work, "home"))
    env.pop("LODESTONE_REDIS_URL", None)
    fit = subprocess.run([args.lodestone, "valuation", "fit", "--history", os.path.join(work, "train.jsonl"),
                          "--as-of", NOW], env=env, capture_output=True, text=True)
    if fit.returncode != 0:
        sys.exit("fit failed: " + fit.stderr)
    reported = [l for l in fit.stderr.splitlines() if "line" in l]
    value = subprocess.run([args.lodestone, "value", "--listing", os.path.join(work, "test.jsonl"), "--as-of", NOW],
                           env=env, capture_output=True, text=True)
    if value.returncode != 0:
        sys.exit("value failed: " + value.stderr)
    answers = {}
    for line in value.stdout.splitlines():
        j = json.loads(line)
        answers[j["id"]] = j
    listed = [r["price"] for r in test]
    mids = [answers[r["id"]]["price"]["mid"] for r in test]
    inside = sum(1 for r in test if answers[r["id"]]["price"]["low"] <= r["price"] <= answers[r["id"]]["price"]["high"])
    stats = json.loads(fit.stdout)
    plain = plain_ridge([r for r in train if r["price"] > 0], test)
    print("synthetic listings history: %d listings, fit on %d lines (%d malformed written, %d reported), "
          "valued %d priced listings" % (len(records), len(train), bad, len(reported), len(test)))
    print("fit: %s" % fit.stdout.strip())
    print("%-28s %10s %14s %10s" % ("model", "spearman", "median|log|", "coverage"))
    print("%-28s %10.3f %14.3f %6.3f/%.2f" % ("lodestone (fit/value)", spearman(mids, listed),
                                              median([abs(math.log(m / p)) for m, p in zip(mids, listed)]),
                                              inside / len(test), stats["band"]["coverage"]))
    print("%-28s %10.3f %14.3f %10s" % ("plain ridge (same part)", spearman(plain, listed),
                                        median([abs(math.log(m / p)) for m, p in zip(plain, listed)]), "-"))


if __name__ == "__main__":
    main()
