#!/usr/bin/env python3
"""A synthetic police register for the import benchmark: N residents over 20 communes x 10 hamlets,
ID numbers consistent with sex and birth year (no warnings), a few bad rows every 100,000 (short ID,
unreal date, unknown hamlet) and one duplicate at the end. Writes units.csv, hamlets.csv and the
register (CSV with a BOM and Vietnamese headers; with --xlsx also an XLSX copy, through openpyxl).

Usage: scripts/gen-register.py N OUT_DIR [--xlsx]"""
import os
import random
import sys

n, out = int(sys.argv[1]), sys.argv[2]
os.makedirs(out, exist_ok=True)
random.seed(7)
C, H = 20, 10
communes = [f"{19000 + i:05d}" for i in range(C)]
with open(f"{out}/units.csv", "w", encoding="utf-8") as f:
    f.write("province_code,province_name,commune_code,commune_name,commune_type,lat,lon,area_km2\n")
    for c in communes:
        f.write(f"19,Tỉnh Thái Nguyên,{c},Xã Thử {c},Xã,22.3,105.9,10\n")
with open(f"{out}/hamlets.csv", "w", encoding="utf-8") as f:
    f.write("commune_code,hamlet_code,hamlet_name\n")
    for c in communes:
        for h in range(H):
            f.write(f"{c},T{h:02d},Xóm {h}\n")
last = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi"]
mid = ["Thị", "Văn", "Hữu", "Đức", "Thu", "Minh"]
first = ["An", "Bình", "Chi", "Dũng", "Hà", "Hùng", "Lan", "Mai", "Nam", "Tuấn", "Yến"]
header = ["Số định danh", "Họ và tên", "Ngày sinh", "Giới tính", "Mã thôn", "Hộ", "Mã xã"]


def rows():
    for i in range(n):
        year = random.randint(1940, 2012)
        female = random.random() < 0.5
        g = (0 if year < 2000 else 2) + (1 if female else 0)
        idn = f"019{g}{year % 100:02d}{i:06d}"
        hamlet = f"T{(i // C) % H:02d}"
        dob = f"{random.randint(1, 28):02d}/{random.randint(1, 12):02d}/{year}"
        if i % 100_000 == 99_997:
            idn = idn[:11]
        if i % 100_000 == 99_998:
            dob = f"30/02/{year}"
        if i % 100_000 == 99_999:
            hamlet = "T99"
        name = f"{random.choice(last)} {random.choice(mid)} {random.choice(first)}"
        yield [idn, name, dob, "Nữ" if female else "Nam", hamlet, f"H{i // 4}", communes[i % C]]


data = list(rows()) if "--xlsx" in sys.argv else None
with open(f"{out}/register.csv", "w", encoding="utf-8") as f:
    f.write("\ufeff" + ",".join(header) + "\n")
    first_row = None
    for r in data if data is not None else rows():
        first_row = first_row or r
        f.write(",".join(r) + "\n")
    f.write(",".join(first_row[:1] + ["Trùng Lặp"] + first_row[2:]) + "\n")
if data is not None:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Dân cư")
    ws.append(header)
    for r in data:
        ws.append(r)
    wb.save(f"{out}/register.xlsx")
