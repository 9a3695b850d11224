"""The desk's dossier check in a real browser (Debian's Chromium driven by Playwright), on a
360-px phone viewport, in Vietnamese: the officer logs in, picks "Cấp phiếu lý lịch tư pháp",
enters the applicant's ID number, uploads the three files (the scan with its .p7s), and reads
that the dossier is not fully signed and that the authorisation lacks the applicant's signature.

usage: dossier.py BASE_URL STAFF_USER PASSWORD APPLICANT_ID FILES_DIR SHOTS
(FILES_DIR holds up-to-khai.pdf, up-cccd.jpg, up-cccd.jpg.p7s, up-uy-quyen.pdf)
"""
import re
import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

base, staff_user, password, applicant, files, shots = sys.argv[1:7]
files, shots = Path(files), Path(shots)
shots.mkdir(parents=True, exist_ok=True)
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def shot(page, name):
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    print(f"step ok: {name}", flush=True)


def fits(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "page wider than the phone"


with sync_playwright() as pw:
    browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
    phone = dict(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True,
                 has_touch=True, locale="vi-VN")
    page = browser.new_context(**phone).new_page()
    page.goto(f"{base}/staff/login")
    page.fill("#u", staff_user)
    page.fill("#pw", password)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/desk$"))
    page.get_by_role("link", name="Kiểm tra chữ ký hồ sơ").click()
    expect(page.locator("h1")).to_have_text("Kiểm tra chữ ký hồ sơ")
    page.select_option("#procedure", label="Cấp phiếu lý lịch tư pháp")
    page.get_by_role("button", name="Chọn").click()
    page.fill("#applicant", applicant)
    page.set_input_files("#file-to-khai", str(files / "up-to-khai.pdf"))
    page.set_input_files("#file-cccd", str(files / "up-cccd.jpg"))
    page.set_input_files("#sig-cccd", str(files / "up-cccd.jpg.p7s"))
    page.set_input_files("#file-uy-quyen", str(files / "up-uy-quyen.pdf"))
    fits(page)
    shot(page, "dossier-1-form")
    page.get_by_role("button", name="Kiểm tra chữ ký").click()
    expect(page).to_have_url(re.compile(r"/desk/dossiers$"))
    expect(page.locator("#verdict")).to_contain_text("Hồ sơ chưa được ký số đầy đủ")
    expect(page.locator("#verdict")).to_contain_text("«Văn bản ủy quyền»: thiếu chữ ký hợp lệ của người nộp hồ sơ")
    flagged = page.locator("section.sig", has_text="THIẾU CHỮ KÝ CỦA NGƯỜI NỘP HỒ SƠ")
    expect(flagged).to_have_count(1)
    expect(flagged).to_contain_text("Văn bản ủy quyền")
    expect(flagged).to_contain_text("uy-quyen.pdf")
    expect(page.locator("section.sig.passed")).to_have_count(2)
    expect(page.locator("section.sig.passed", has_text="Tờ khai")).to_contain_text("Người nộp đã ký")
    expect(page.locator("section.sig.passed", has_text="cccd.jpg")).to_contain_text("Người nộp đã ký")
    masked = applicant[:4] + "****" + applicant[8:]
    expect(page.locator("dl")).to_contain_text(masked)
    assert applicant not in page.content(), "the full ID number is on the page"
    fits(page)
    shot(page, "dossier-2-verdict")
    browser.close()
    print("dossier complete", flush=True)
