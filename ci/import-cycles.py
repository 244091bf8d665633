#!/usr/bin/env python3
"""Fails if two source files of src/ import each other, directly or through a ring.

A file's imports are its `use crate::...`, `use super::...` and `crate::...` paths,
resolved to the deepest module file they name. A parent's `mod child;` and a child's use of
its parent's items are the normal hierarchy and are not counted; test modules are.
"""
import os, re, sys
root=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
files={}
for d,_,fs in os.walk(root):
    for f in fs:
        if f.endswith('.rs'):
            p=os.path.join(d,f); files[p]=open(p).read()
def modpath(p):
    rel=os.path.relpath(p,root)[:-3].split('/')
    if rel[-1] in ('mod','lib','main'): rel=rel[:-1]
    return rel
bymod={tuple(modpath(p)):p for p in files}
# Items a module re-exports from its children (`pub use child::{A, B};`), so that a path
# through the re-export resolves to the file that defines the item.
reexports = {}
for p, s in files.items():
    me = tuple(modpath(p))
    for m in re.finditer(r'pub use (\w+)::(\{[^}]*\}|\w+)\s*;', s):
        child, names = m.group(1), m.group(2).strip('{}')
        target = bymod.get(me + (child,))
        if target:
            for n in names.split(','):
                n = n.strip().split(' as ')[-1].strip()
                if n:
                    reexports[(me, n)] = target

def resolve(parts):
    # the deepest module file the path names, looking through re-exports
    for k in range(len(parts), 0, -1):
        key = tuple(parts[:k])
        if key in bymod:
            if k < len(parts) and (key, parts[k]) in reexports:
                return reexports[(key, parts[k])]
            return bymod[key]
    return None
edges={p:set() for p in files}
for p,s in files.items():
    me=modpath(p)
    # is this file a mod.rs (dir module)?
    isdir=os.path.basename(p) in ('mod.rs','lib.rs')
    s2=re.sub(r'//.*','',s)
    # crude: ignore cfg(test) mod tests blocks
    for m in re.finditer(r'\buse\s+([^;]+);', s2):
        body=m.group(1)
        # expand braces at first level roughly: take prefix before { and first names
        prefix=body.split('{')[0].strip().rstrip(':')
        names=[]
        if '{' in body:
            inner=body[body.index('{')+1:body.rindex('}')]
            names=[x.strip().split('::')[0].split(' ')[0] for x in re.split(r',(?![^{]*\})',inner) if x.strip()]
        paths=[prefix.split('::')+[n] for n in names] if names else [prefix.split('::')]
        for parts in paths:
            parts=[x for x in parts if x]
            if not parts: continue
            if parts[0]=='crate': abs_=parts[1:]
            elif parts[0]=='super':
                base=list(me)
                while parts and parts[0]=='super':
                    parts=parts[1:]; base=base[:-1]
                abs_=base+parts
            elif parts[0]=='self':
                abs_=list(me)+parts[1:]
            else: continue
            t=resolve(abs_)
            if t and t!=p: edges[p].add(t)
    for m in re.finditer(r'crate::([a-z_]+(?:::[a-z_]+)*)', s2):
        t=resolve(m.group(1).split('::'))
        if t and t!=p: edges[p].add(t)
# find cycles of length 2 and general SCCs
idx={};low={};st=[];on=set();sccs=[];c=[0]
sys.setrecursionlimit(10000)
def sc(v):
    idx[v]=low[v]=c[0];c[0]+=1;st.append(v);on.add(v)
    for w in edges[v]:
        if w not in idx: sc(w);low[v]=min(low[v],low[w])
        elif w in on: low[v]=min(low[v],idx[w])
    if low[v]==idx[v]:
        comp=[]
        while True:
            w=st.pop();on.discard(w);comp.append(w)
            if w==v:break
        if len(comp)>1: sccs.append(comp)
for v in files:
    if v not in idx: sc(v)
for comp in sccs:
    print("import cycle:", " <-> ".join(sorted(os.path.relpath(x, root) for x in comp)))
if sccs:
    sys.exit(1)
print(f"no import cycles among {len(files)} files")
