"""The citizen journey in a real browser (Debian's Chromium driven by Playwright), on a 360-px
phone viewport, in Vietnamese: register (level 1) → a desk officer verifies level 2 and records
the session → choose a provider → confirm → set a PIN and activate → sign a PDF and download it →
verify it on /verify. Screenshots of every step go to SHOTS.

usage: journey.py BASE_URL NEW_ID STAFF_USER PASSWORD INPUT_PDF OUTPUT_PDF SHOTS
"""
import re
import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

base, new_id, staff_user, password, input_pdf, output_pdf, shots = sys.argv[1:8]
shots = Path(shots)
shots.mkdir(parents=True, exist_ok=True)
PIN = "280419"
PHONE = "0912345678"
CITIZEN_PW = "hoa sen nở rộ 2026"

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def shot(page, name):
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    print(f"step ok: {name}", flush=True)


with sync_playwright() as pw:
    browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
    phone = dict(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True,
                 has_touch=True, locale="vi-VN")
    citizen = browser.new_context(**phone, accept_downloads=True)
    page = citizen.new_page()

    # 1. Register a level-1 account.
    page.goto(f"{base}/register")
    expect(page.locator("h1")).to_have_text("Đăng ký tài khoản")
    page.fill("#id", new_id)
    page.fill("#phone", PHONE)
    page.fill("#pw", CITIZEN_PW)
    page.fill("#pw2", CITIZEN_PW)
    shot(page, "01-register-form")
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/me\b"))
    expect(page.locator(".badge").first).to_contain_text("Mức 1")
    expect(page.get_by_text("Điểm hỗ trợ gần bạn")).to_be_visible()
    # nothing on the page may overflow a 360-px screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "page wider than the phone"
    shot(page, "02-level1-what-to-do")

    # 2. The desk officer verifies the person in person and records the session.
    staff = browser.new_context(**phone)
    desk = staff.new_page()
    desk.goto(f"{base}/staff/login")
    desk.fill("#u", staff_user)
    desk.fill("#pw", password)
    desk.click("button[type=submit]")
    expect(desk).to_have_url(re.compile(r"/desk$"))
    desk.fill("#id", new_id)
    desk.click("button:has-text('Tra cứu')")
    masked = new_id[:4] + "****" + new_id[-4:]
    expect(desk.get_by_text(masked)).to_be_visible()
    assert new_id not in desk.locator("main").inner_text(), "the desk shows the full ID number"
    shot(desk, "03-desk-lookup")
    desk.check("input[name=checked]")
    desk.click("button:has-text('Xác nhận mức 2')")
    expect(desk.locator(".ok")).to_contain_text("mức 2")
    # The same person stays on screen (name and birth year beside the masked ID): no retyping.
    expect(desk.get_by_text("Năm sinh")).to_be_visible()
    assert new_id not in desk.url and new_id not in desk.content(), "the full ID number travelled"
    shot(desk, "04-desk-verified")
    desk.check("input[value=eid_level2]")
    desk.check("input[value=certificate_issued]")
    desk.select_option("#outcome", "completed")
    desk.click("button:has-text('Ghi nhận')")
    expect(desk.locator(".ok")).to_contain_text("Đã ghi nhận")
    desk.goto(f"{base}/desk/results")
    shot(desk, "05-desk-results")
    # The desk's guidance poster (its QR code is decoded by zbarimg in browser.rs).
    desk.goto(f"{base}/desk")
    desk.click("a:has-text('In áp phích mã QR')")
    expect(desk.locator("svg")).to_be_visible()
    shot(desk, "05-desk-poster")

    # 3. Choose a provider, confirm, set a PIN, activate.
    page.goto(f"{base}/me")
    expect(page.locator(".badge").first).to_contain_text("Mức 2")
    page.click("text=Tạo chữ ký số")
    page.locator("input[name=provider]").first.check()
    shot(page, "06-choose-provider")
    page.click("button:has-text('Tiếp tục')")
    expect(page.locator("h1")).to_have_text("Xác nhận thông tin")
    shot(page, "07-confirm-data")
    page.check("input[name=confirmed]")
    page.click("button:has-text('Xác nhận')")
    page.fill("#pin", PIN)
    page.fill("#pin2", PIN)
    shot(page, "08-set-pin")
    page.click("button:has-text('Kích hoạt')")
    expect(page.locator(".ok")).to_contain_text("Đã kích hoạt")
    expect(page.locator(".badge.good")).to_contain_text("Đang hiệu lực")
    shot(page, "09-my-certificates")

    # 4. Sign a PDF and download it.
    page.goto(f"{base}/me/sign")
    page.set_input_files("#file", input_pdf)
    page.fill("#pin", PIN)
    page.fill("#reason", "Nộp hồ sơ dịch vụ công")
    shot(page, "10-sign-form")
    with page.expect_download() as dl:
        page.click("button:has-text('Ký và tải về')")
    dl.value.save_as(output_pdf)
    assert Path(output_pdf).read_bytes().startswith(b"%PDF-")

    # 5. Verify it on the public page.
    page.goto(f"{base}/verify")
    page.set_input_files("#f", output_pdf)
    expect(page.locator("#out")).to_contain_text("TOTAL-PASSED", timeout=15000)
    shot(page, "11-verified")

    # 6. Officers' pages on the same phone (issue 18): nothing wider than the screen, and the
    # worklist's first visit form usable — its provider field and save button on screen.
    def fits(pg, what):
        width = pg.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{what} is {width} px wide on a 360-px phone"

    officer = browser.new_context(**phone).new_page()
    officer.goto(f"{base}/staff/login")
    officer.fill("#u", "canbo.xa")
    officer.fill("#pw", password)
    officer.click("button[type=submit]")
    expect(officer).to_have_url(re.compile(r"/desk$"))
    officer.goto(f"{base}/campaign/worklist?commune=01960&hamlet=T01")
    fits(officer, "the worklist")
    form = officer.locator("form.visit").first
    for part in ["input[name=provider]", "button[type=submit]"]:
        box = form.locator(part).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360, f"{part} off-screen: {box}"
    assert officer.locator("form.visit").count() == 50, "one page of 50 lines"
    shot(officer, "13-worklist-phone")
    for path, name in [("/campaign?unit=01960", "14-dashboard-phone"), ("/campaign/ranking?province=19", "15-ranking-phone"),
                       ("/campaign/reports?unit=19", "16-rollup-phone"), ("/", "17-home-phone")]:
        officer.goto(f"{base}{path}")
        fits(officer, path)
        shot(officer, name)
    # The roll-up's last column (visits) is on screen, beside its heading, not cut off.
    cell = officer.goto(f"{base}/campaign/reports?unit=19") and officer.locator("table.reflow td[data-label]").last
    box = cell.bounding_box()
    assert box and box["x"] + box["width"] <= 360, f"the roll-up's last column off-screen: {box}"

    # English switch works on the citizen pages.
    page.goto(f"{base}/me?lang=en")
    expect(page.locator("h1")).to_have_text("My account")
    shot(page, "12-english")
    browser.close()
print("journey complete")
