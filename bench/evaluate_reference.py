"""Reference for bench/evaluate.ts: DSC, NSD@tau and HD95 following DeepMind surface-distance's
definitions with numpy/scipy (Debian python3-scipy), timed on the same volumes as segloss.

Usage: python3 evaluate_reference.py DIR
DIR holds gt.u8 and pred.u8 (uint8 label maps, NIfTI order: i fastest) and meta.json
({"shape": [ni, nj, nk], "spacing_mm": [si, sj, sk], "labels": [...], "tolerance_mm": tau}).
Prints one JSON line: {"ms": ..., "peak_rss_mb": ..., "metrics": [{"label", "dsc", "nsd", "hd95"}]}.

Definitions (shared/spec/metrics-and-ranking.md §1): corner-grid neighbour codes from a 2x2x2
correlation, surfel areas from the marching-cubes table (computed below from geometry: vertices at
edge midpoints, complement rule above 4 corners, maximal-area triangulation, cofactor scaling by
spacing), exact EDT with sampling, distances sorted by (distance, area), NSD with <=, HD95 = max of
the directed area-weighted searchsorted percentiles.
"""
import itertools
import json
import os
import resource
import sys
import time

import numpy as np
from scipy import ndimage

CORNERS = [(a, b, c) for a in (0, 1) for b in (0, 1) for c in (0, 1)]
EDGES = [(p, q) for p in range(8) for q in range(p + 1, 8)
         if sum(abs(x - y) for x, y in zip(CORNERS[p], CORNERS[q])) == 1]


def _bit(a, b, c):
    return 1 << (7 - (4 * a + 2 * b + c))


def _faces():
    faces = []
    for axis in range(3):
        for v in (0, 1):
            on = [i for i, c in enumerate(CORNERS) if c[axis] == v]
            order = [on[0]]
            while len(order) < 4:
                last = CORNERS[order[-1]]
                order.append(next(i for i in on if i not in order
                                  and sum(abs(x - y) for x, y in zip(CORNERS[i], last)) == 1))
            faces.append(order)
    return faces


FACES = _faces()


def _edge(p, q):
    return EDGES.index((min(p, q), max(p, q)))


def _polygons(code):
    inside = [bool(code & _bit(*c)) for c in CORNERS]
    if sum(inside) > 4:
        inside = [not v for v in inside]
    nb = {e: [] for e in range(len(EDGES))}

    def join(e1, e2):
        nb[e1].append(e2)
        nb[e2].append(e1)

    for face in FACES:
        ins = [inside[i] for i in face]
        fe = lambda k, dk: _edge(face[k], face[(k + dk) % 4])
        n = sum(ins)
        if n in (0, 4):
            continue
        if n in (1, 3):
            k = ins.index(n == 1)
            join(fe(k, -1), fe(k, 1))
        else:
            k0 = ins.index(True)
            if ins[(k0 + 2) % 4]:
                for k in (k0, (k0 + 2) % 4):
                    join(fe(k, -1), fe(k, 1))
            else:
                k1 = (k0 + 1) % 4 if ins[(k0 + 1) % 4] else (k0 + 3) % 4
                out = lambda k, o: -1 if (o - k) % 4 == 1 else 1
                join(fe(k0, out(k0, k1)), fe(k1, out(k1, k0)))
    seen, cycles = set(), []
    for e in range(len(EDGES)):
        if not nb[e] or e in seen:
            continue
        cyc, prev, cur = [e], None, e
        seen.add(e)
        while True:
            nxt = nb[cur][1] if nb[cur][0] == prev else nb[cur][0]
            if nxt == e or nxt in seen:
                break
            cyc.append(nxt)
            seen.add(nxt)
            prev, cur = cur, nxt
        cycles.append([np.mean([CORNERS[EDGES[x][0]], CORNERS[EDGES[x][1]]], axis=0) for x in cyc])
    return cycles


def _triangulations(idx):
    if len(idx) < 3:
        yield []
        return
    if len(idx) == 3:
        yield [tuple(idx)]
        return
    for k in range(1, len(idx) - 1):
        for left in _triangulations(idx[:k + 1]):
            for right in _triangulations(idx[k:]):
                yield left + right + [(idx[0], idx[k], idx[-1])]


def area_table(spacing):
    s0, s1, s2 = spacing
    table = np.zeros(256)
    for code in range(256):
        total = 0.0
        for pts in _polygons(code):
            best, best_area = None, -1.0
            for tri in _triangulations(list(range(len(pts)))):
                vs = [np.cross(pts[j] - pts[i], pts[k] - pts[i]) / 2 for i, j, k in tri]
                area = sum(np.linalg.norm(v) for v in vs)
                if area > best_area + 1e-12:
                    best, best_area = vs, area
            total += sum(np.linalg.norm([n[0] * s1 * s2, n[1] * s0 * s2, n[2] * s0 * s1]) for n in best)
        table[code] = total
    return table


KERNEL = np.array([[[128, 64], [32, 16]], [[8, 4], [2, 1]]])


def surface_distances(gt, pred, spacing, table):
    union = gt | pred
    if not union.any():
        e = np.zeros(0)
        return e, e, e, e
    lo = [np.where(union.any(axis=tuple(a for a in range(3) if a != ax)))[0][[0, -1]] for ax in range(3)]
    sl = tuple(slice(l[0], l[1] + 1) for l in lo)
    shape = tuple(l[1] - l[0] + 2 for l in lo)
    crops = []
    for m in (gt, pred):
        c = np.zeros(shape, np.uint8)
        c[:-1, :-1, :-1] = m[sl]
        crops.append(c)
    codes = [ndimage.correlate(c, KERNEL, mode="constant", cval=0) for c in crops]
    borders = [(c != 0) & (c != 255) for c in codes]
    dist = []
    for b in borders:
        dist.append(ndimage.distance_transform_edt(~b, sampling=spacing) if b.any() else np.full(b.shape, np.inf))
    out = []
    for me, other in ((0, 1), (1, 0)):
        d = dist[other][borders[me]]
        a = table[codes[me][borders[me]]]
        order = np.lexsort((a, d))
        out += [d[order], a[order]]
    return out


def metrics(gt, pred, spacing, table, tau):
    dgp, agp, dpg, apg = surface_distances(gt, pred, spacing, table)
    vs = gt.sum() + pred.sum()
    dsc = np.nan if vs == 0 else 2 * (gt & pred).sum() / vs
    with np.errstate(invalid="ignore"):
        nsd = (np.sum(agp[dgp <= tau]) + np.sum(apg[dpg <= tau])) / (np.sum(agp) + np.sum(apg))

    def perc(d, a):
        if len(d) == 0:
            return np.inf
        idx = np.searchsorted(np.cumsum(a) / np.sum(a), 0.95)
        return d[min(idx, len(d) - 1)]

    return float(dsc), float(nsd), float(max(perc(dgp, agp), perc(dpg, apg)))


def main():
    d = sys.argv[1]
    meta = json.load(open(os.path.join(d, "meta.json")))
    ni, nj, nk = meta["shape"]
    # i-fastest data = C-order array [k, j, i]; spacing reversed accordingly
    gt = np.fromfile(os.path.join(d, "gt.u8"), np.uint8).reshape(nk, nj, ni)
    pred = np.fromfile(os.path.join(d, "pred.u8"), np.uint8).reshape(nk, nj, ni)
    spacing = tuple(meta["spacing_mm"][::-1])
    t0 = time.perf_counter()
    table = area_table(spacing)
    results = []
    for label in meta["labels"]:
        dsc, nsd, hd = metrics(gt == label, pred == label, spacing, table, meta["tolerance_mm"])
        results.append({"label": label, "dsc": dsc, "nsd": nsd, "hd95": hd if np.isfinite(hd) else "inf"})
    ms = (time.perf_counter() - t0) * 1000
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"ms": ms, "peak_rss_mb": peak, "metrics": results}))


if __name__ == "__main__":
    main()
