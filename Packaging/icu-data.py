#!/usr/bin/env python3
"""Packaging/icu-data.py ARCHIVE DIR — ICU's data table cut down to what a terminal uses.

A static Swift binary carries Foundation's ICU data (icudt*_dat in lib_FoundationICU.a,
34 MB): every locale's names, collations, calendars, break rules and the charset
converters. The terminal speaks English and Traditional Chinese and converts only UTF-8,
so the package links a table holding ICU's structural data (properties, normalization,
time zones, supplemental data, root collation and break rules) and the root, English and
Chinese locales only. DIR gets the table (icudt.dat) and icudata.inc, the assembly that
Sources/CICUData includes in the package's build (make deb) to define the same symbol, so
the linker takes it instead of the archive's member. docs/packaging.md says what is kept.
"""
import hashlib
import os
import re
import struct
import subprocess
import sys
import tempfile

# Locale resources kept (every tree: names, units, currencies, zones, collation, breaks).
KEPT_LOCALES = re.compile(r'^(root|en|en_001|en_US|en_US_POSIX|en_GB|zh|zh_Hant|zh_Hant_TW|zh_TW|zh_Hans|zh_Hans_CN|zh_CN)$')
LOCALE = re.compile(r'^[a-z]{2,3}(_[A-Za-z0-9]*)*$')
# Collation: the root order only (nothing on the terminal sorts by a locale's rules; Chinese
# stroke and pinyin orders are 1.5 MB).
KEPT_COLLATIONS = re.compile(r'^(root|en|en_US|en_US_POSIX)$')
# Trees nothing on the terminal asks for: transliterators; the dictionaries of scripts the
# terminal never segments (ICU then breaks their text per character). These four are the
# only items the kept ones refer to and the table leaves out (icupkg checks, below).
DROPPED_TREES = ('translit/',)
DROPPED = {'brkitr/thaidict.dict', 'brkitr/laodict.dict', 'brkitr/burmesedict.dict', 'brkitr/khmerdict.dict'}


def read(blob):
    """The header and the (name, bytes) items of an ICU common data package."""
    header_size, magic1, magic2 = struct.unpack_from('<HBB', blob, 0)
    if (magic1, magic2) != (0xDA, 0x27):
        sys.exit('icu-data: not an ICU data package (magic %02x %02x)' % (magic1, magic2))
    toc = header_size
    count, = struct.unpack_from('<I', blob, toc)
    entries = [struct.unpack_from('<II', blob, toc + 4 + 8 * i) for i in range(count)]
    items = []
    for i, (name_at, data_at) in enumerate(entries):
        name = blob[toc + name_at: blob.index(b'\0', toc + name_at)].decode('ascii')
        end = entries[i + 1][1] if i + 1 < count else len(blob) - toc
        items.append((name, blob[toc + data_at: toc + end]))
    return blob[:header_size], items


def write(header, items):
    """A package of the items, laid out as ICU's own tools do: sorted names, data at 16 bytes."""
    items = sorted(items)
    names = b''.join(name.encode('ascii') + b'\0' for name, _ in items)
    toc_size = 4 + 8 * len(items)
    data_at = (toc_size + len(names) + 15) & ~15
    entries, data, name_at = [], b'', toc_size
    for name, item in items:
        entries.append(struct.pack('<II', name_at, data_at + len(data)))
        name_at += len(name) + 1
        data += item + b'\0' * (-len(item) % 16)
    toc = struct.pack('<I', len(items)) + b''.join(entries) + names
    return header + toc + b'\0' * (data_at - len(toc)) + data


def kept(name):
    path = name.split('/', 1)[1]          # "icudt76l/coll/de.res" -> "coll/de.res"
    base = path.rsplit('/', 1)[-1]
    stem = base.rsplit('.', 1)[0]
    if base.endswith('.cnv') or path in DROPPED or path.startswith(DROPPED_TREES):
        return False
    if base.endswith('.res') and stem != 'res_index' and LOCALE.match(stem):
        return bool((KEPT_COLLATIONS if path.startswith('coll/') else KEPT_LOCALES).match(stem))
    return True


def main():
    if len(sys.argv) != 3:
        sys.exit('usage: icu-data.py lib_FoundationICU.a DIR')
    archive, out = sys.argv[1], os.path.abspath(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        members = subprocess.run(['ar', 't', archive], check=True, capture_output=True, text=True).stdout.split()
        member = next((m for m in members if m.startswith('icu_packaged_data')), None)
        if member is None:
            sys.exit('icu-data: %s has no icu_packaged_data member' % archive)
        subprocess.run(['ar', 'x', archive, member], check=True, cwd=work)
        symbols = subprocess.run(['nm', os.path.join(work, member)], check=True, capture_output=True, text=True).stdout
        symbol = next((line.split()[-1] for line in symbols.splitlines() if re.search(r' R icudt\d+_dat$', line)), None)
        if symbol is None:
            sys.exit('icu-data: no icudt*_dat symbol in %s' % member)
        full = os.path.join(work, 'full.dat')
        subprocess.run(['objcopy', '-O', 'binary', '--only-section=.rodata', os.path.join(work, member), full], check=True)
        with open(full, 'rb') as f:
            header, items = read(f.read())
    subset = sorted((name, item) for name, item in items if kept(name))
    blob = write(header, subset)
    if read(blob)[1] != subset:
        sys.exit('icu-data: the written table does not read back as its items')
    check_with_icupkg(blob, symbol, [name for name, _ in subset])
    dat = os.path.join(out, 'icudt.dat')
    replace_if_changed(dat, blob)
    # The table's digest in the assembly: a new table recompiles the object.
    digest = hashlib.sha256(blob).hexdigest()
    replace_if_changed(os.path.join(out, 'icudata.inc'), (
        '// %s: %d of %d items of %s, sha256 %s\n'
        '\t.section .rodata\n\t.balign 16\n\t.globl %s\n\t.type %s, @object\n%s:\n\t.incbin "%s"\n\t.size %s, . - %s\n'
        % (symbol, len(subset), len(items), os.path.basename(archive), digest, symbol, symbol, symbol, dat, symbol, symbol)).encode())
    print('icu-data: %s: %d of %d items, %.1f of %.1f MB' % (
        symbol, len(subset), len(items), len(blob) / 1e6, sum(len(item) for _, item in items) / 1e6))


def check_with_icupkg(blob, symbol, names):
    """ICU's own package tool, an independent reader: the table must list every kept item,
    and the items it refers to and lacks must be exactly the ones left out on purpose."""
    with tempfile.TemporaryDirectory() as work:
        # icupkg wants the file named for the items' prefix (icudt76l.dat).
        path = os.path.join(work, symbol.replace('_dat', 'l.dat'))
        with open(path, 'wb') as f:
            f.write(blob)
        # (icupkg exits non-zero when items refer to missing ones: compared below.)
        run = subprocess.run(['icupkg', '-l', path], capture_output=True, text=True)
        listed = run.stdout.split()
        expected = sorted(name.split('/', 1)[1] for name in names)
        if sorted(listed) != expected:
            sys.exit('icu-data: icupkg lists %d items, the table has %d' % (len(listed), len(expected)))
        missing = set(re.findall(r'depends on missing item (\S+)', run.stderr))
        if missing != DROPPED:
            sys.exit('icu-data: kept items refer to left-out ones: %s' % ', '.join(sorted(missing - DROPPED)))


def replace_if_changed(path, content):
    """Writes content unless the file holds it already (an unchanged table relinks nothing)."""
    try:
        with open(path, 'rb') as f:
            if f.read() == content:
                return
    except FileNotFoundError:
        pass
    with open(path + '.tmp', 'wb') as f:
        f.write(content)
    os.replace(path + '.tmp', path)


if __name__ == '__main__':
    main()
