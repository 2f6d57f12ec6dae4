#!/usr/bin/env python3
"""Build internal/web/mapdata/world.txt, the outlines of the coverage map.

Input: the world-atlas npm package 2.0.2 (TopoJSON of Natural Earth 4.1.0
admin-0 countries, public domain), unpacked in a folder given as argument:
    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python3 scripts/worldmap.py package

Output lines, tab-separated, for the States of internal/directory/data/states.csv
(keyed by their M49 code) and for the rest of the land:
    M49  path  <SVG path data>      outline at 1:110m
    M49  dot   <x> <y>              a State too small for 1:110m, at the
                                    centre of its largest 1:50m (or 1:10m)
                                    polygon
    -    land  <SVG path data>      territories that are not in the list
The projection is equirectangular, 960 units for 360 degrees of longitude,
from 84 degrees north to 58 degrees south; coordinates are rounded to whole
units (relative moves), and points that round onto the previous one are
dropped; rings that shrink below three points are left out.
"""
import csv, json, os, sys

W = 960.0
NORTH, SOUTH = 84.0, -58.0
SCALE = W / 360.0

def decode(topo):
    t = topo.get("transform")
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for p in arc:
            if t:
                x += p[0]; y += p[1]
                pts.append((x * t["scale"][0] + t["translate"][0], y * t["scale"][1] + t["translate"][1]))
            else:
                pts.append((p[0], p[1]))
        arcs.append(pts)
    return arcs

def ring(arcs, idx):
    pts = []
    for i in idx:
        a = arcs[i] if i >= 0 else list(reversed(arcs[~i]))
        pts.extend(a if not pts else a[1:])
    return pts

def polygons(geom, arcs):
    if geom["type"] == "Polygon":
        return [[ring(arcs, r) for r in geom["arcs"]]]
    if geom["type"] == "MultiPolygon":
        return [[ring(arcs, r) for r in p] for p in geom["arcs"]]
    return []

def proj(lon, lat):
    lat = max(min(lat, NORTH), SOUTH)
    return (lon + 180.0) * SCALE, (NORTH - lat) * SCALE

def split_at_antimeridian(pts):
    """Cut a ring where it jumps across the map (it crosses 180 degrees), so
    that no line is drawn from one edge of the map to the other; the pieces
    are closed each along the edge."""
    runs, cur = [], [pts[0]]
    for p in pts[1:]:
        if abs(p[0] - cur[-1][0]) > W / 2:
            runs.append(cur)
            cur = []
        cur.append(p)
    if runs and abs(pts[0][0] - cur[-1][0]) <= W / 2:
        runs[0] = cur + runs[0]  # the ring wraps: its last run goes on into its first
    else:
        runs.append(cur)
    return runs


def path(polys):
    """SVG path data in whole units with relative moves: small to send."""
    out = []
    for poly in polys:
        for r in poly:
            pts = []
            for lon, lat in r:
                x, y = proj(lon, lat)
                p = (int(round(x)), int(round(y)))
                if not pts or p != pts[-1]:
                    pts.append(p)
            if len(pts) > 1 and pts[-1] == pts[0]:
                pts.pop()
            if len(pts) < 3:
                continue
            for seg in split_at_antimeridian(pts):
                if len(seg) < 3:
                    continue
                s = "M%d,%d" % seg[0]
                for (x0, y0), (x1, y1) in zip(seg, seg[1:]):
                    s += "l%d,%d" % (x1 - x0, y1 - y0)
                out.append(s + "z")
    return "".join(out)

def fmt(v):
    s = ("%.1f" % v).rstrip("0").rstrip(".")
    return s if s != "-0" else "0"

def area(r):
    return abs(sum(r[i][0] * r[i - 1][1] - r[i - 1][0] * r[i][1] for i in range(len(r)))) / 2

def main(folder):
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    with open(os.path.join(root, "internal/directory/data/states.csv")) as f:
        states = {row["m49"]: row["iso3"] for row in csv.DictReader(f)}
    t110 = json.load(open(os.path.join(folder, "countries-110m.json")))
    t50 = json.load(open(os.path.join(folder, "countries-50m.json")))
    a110, a50 = decode(t110), decode(t50)
    g110 = {g.get("id"): g for g in t110["objects"]["countries"]["geometries"]}
    g50 = {g.get("id"): g for g in t50["objects"]["countries"]["geometries"]}
    # The smallest States are only at 1:10m.
    t10 = json.load(open(os.path.join(folder, "countries-10m.json")))
    a10 = decode(t10)
    g10 = {g.get("id"): g for g in t10["objects"]["countries"]["geometries"]}
    lines, other = [], []
    for m49 in sorted(states):
        if m49 in g110 and polygons(g110[m49], a110):
            lines.append("%s\tpath\t%s" % (m49, path(polygons(g110[m49], a110))))
        elif m49 in g50 or m49 in g10:
            polys = polygons(g50[m49], a50) if m49 in g50 else polygons(g10[m49], a10)
            biggest = max((p[0] for p in polys), key=area)
            lon = sum(p[0] for p in biggest) / len(biggest)
            lat = sum(p[1] for p in biggest) / len(biggest)
            x, y = proj(lon, lat)
            lines.append("%s\tdot\t%s %s" % (m49, fmt(round(x, 1)), fmt(round(y, 1))))
        else:
            sys.exit("no outline for M49 %s (%s)" % (m49, states[m49]))
    for id_, g in g110.items():
        if id_ not in states and g["properties"].get("name") != "Antarctica":
            other.extend(polygons(g, a110))
    lines.append("-\tland\t%s" % path(other))
    with open(os.path.join(root, "internal/web/mapdata/world.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")

if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "package")
