"""Every page of the web app in Debian's Chromium (Playwright), at 360 px and 1280 px: public
pages, a level-1 and a level-2 citizen (through activation and signing), the desk, a commune and
a province officer. On each page, at each width:
  - the document does not scroll sideways as a whole (scrollWidth <= innerWidth);
  - every form's submit button can be reached: scrolled into view vertically (never sideways, by
    the page or a scrolling table), it has a box inside the viewport and is the element found at
    its centre and near both edges (not clipped, not covered);
  - axe-core reports no serious or critical violation.
Pages linked from the checked ones and not named here are followed too (once per path).
Each page is loaded once and checked at both widths (the viewport is resized in place, so
forms that change state are submitted once). Prints one line per check and a summary; exits 1
listing every problem.

usage: pages.py BASE_URL AXE_JS L1_ID L2_ID PASSWORD INPUT_PDF
"""
import re
import sys
from urllib.parse import urlparse

from playwright.sync_api import expect, sync_playwright

base, axe_js, l1_id, l2_id, password, input_pdf = sys.argv[1:7]
WIDTHS = (360, 1280)
PIN = "582046"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Layout checks, in the page. Returns {scrollWidth, innerWidth, forms, problems: [...]}.
LAYOUT = r"""
() => {
  const W = window.innerWidth, H = window.innerHeight;
  const desc = (e) => {
    if (!e) return 'nothing';
    let s = e.tagName.toLowerCase();
    if (e.id) s += '#' + e.id;
    if (e.className && typeof e.className === 'string') s += '.' + e.className.trim().split(/\s+/).join('.');
    const t = (e.innerText || e.value || '').trim().slice(0, 30);
    return t ? `${s} "${t}"` : s;
  };
  document.querySelectorAll('details').forEach(d => d.open = true);
  const problems = [];
  const seen = new Set();
  const forms = [...document.forms];
  // A long list repeats one form per line: the first 60 and the last stand for the rest.
  const sample = forms.length > 61 ? forms.slice(0, 60).concat(forms.slice(-1)) : forms;
  for (const f of sample) {
    const subs = [...f.querySelectorAll('button:not([type]), button[type=submit], input[type=submit], input[type=image]')];
    const where = `form ${f.getAttribute('method') || 'get'} ${f.getAttribute('action') || ''}`;
    if (!subs.length) { problems.push(`${where}: no submit button`); continue; }
    for (const b of subs) {
      // Scroll the page vertically only: a button that needs the page or a table scrolled
      // sideways is not reachable on a phone.
      const r0 = b.getBoundingClientRect();
      window.scrollTo(0, window.scrollY + r0.top + r0.height / 2 - H / 2);
      const r = b.getBoundingClientRect();
      let p = null;
      if (r.width < 1 || r.height < 1) p = 'not displayed';
      else if (r.left < -0.5 || r.right > W + 0.5 || r.top < -0.5 || r.bottom > H + 0.5)
        p = `outside the viewport (${Math.round(r.left)}..${Math.round(r.right)} of ${W})`;
      else {
        const y = r.top + r.height / 2;
        for (const x of [r.left + r.width / 2, r.left + 2, r.right - 2]) {
          const e = document.elementFromPoint(x, y);
          if (!(e === b || b.contains(e))) { p = `covered or clipped at x=${Math.round(x)} by ${desc(e)}`; break; }
        }
      }
      if (p) {
        const key = `${where} ${desc(b)}: ${p.replace(/[0-9.]+/g, '#')}`;
        if (!seen.has(key)) { seen.add(key); problems.push(`${where} button ${desc(b)}: ${p}`); }
      }
    }
  }
  window.scrollTo(0, 0);
  const sw = document.documentElement.scrollWidth;
  if (sw > W) {
    const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > W + 0.5)
      .filter(e => !e.closest('.scroll')).slice(0, 3).map(desc);
    problems.unshift(`the document scrolls sideways: scrollWidth ${sw} > ${W} (${wide.join(', ')})`);
  }
  return {scrollWidth: sw, innerWidth: W, forms: forms.length, problems};
}
"""

AXE = r"""
async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v =>
    `axe ${v.impact} ${v.id}: ${v.help} — ` +
    v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' ' + n.html.slice(0, 90)).join(' | ') +
    (v.nodes.length > 3 ? ` (+${v.nodes.length - 3} more)` : ''));
}
"""

checked = []
failures = []
# Paths already checked, and links seen on the checked pages (per signed-in context): at the end
# of each part the links to paths not yet checked are followed, so a page added later is covered
# without naming it here.
visited = set()
seen_links = {}
SKIP = re.compile(r"^/(api|csc|ca|crl|ocsp|tsa|assets|healthz|logout|me/enrol)(/|$)|[./](xlsx|crt|crl|pdf|json)$")


def check(page, name):
    """The page as it is now, at each width."""
    page.wait_for_load_state("load")
    visited.add(urlparse(page.url).path)
    hrefs = page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)")
    seen_links.setdefault(id(page.context), []).extend(hrefs)
    lang = page.evaluate("document.documentElement.lang")
    for w in WIDTHS:
        page.set_viewport_size({"width": w, "height": 800})
        page.wait_for_timeout(50)
        r = page.evaluate(LAYOUT)
        if not page.evaluate("!!window.axe"):
            page.add_script_tag(path=axe_js)
        problems = r["problems"] + page.evaluate(AXE)
        if not lang:
            problems.append("<html> has no lang attribute")
        checked.append(f"{name}@{w}")
        if problems:
            failures.append((name, w, page.url, problems))
            print(f"FAIL {name} @{w}px {page.url}", flush=True)
            for p in problems:
                print(f"    {p}", flush=True)
        else:
            print(f"page ok: {name} @{w}px ({r['forms']} forms)", flush=True)
    page.set_viewport_size({"width": WIDTHS[0], "height": 800})


def visit(page, path, name, status=200):
    resp = page.goto(f"{base}{path}")
    assert resp is not None and resp.status == status, f"{name}: {path} answered {resp and resp.status}"
    check(page, name)
    return resp


def crawl(page, who):
    """Every page linked from what `page`'s context saw whose path was not checked yet."""
    origin = urlparse(base).netloc
    for href in list(seen_links.get(id(page.context), [])):
        u = urlparse(href)
        if u.netloc != origin or u.path in visited or SKIP.search(u.path):
            continue
        visited.add(u.path)
        try:
            resp = page.goto(href)
        except Exception as e:  # a download (an export not named in SKIP) is not a page
            if "Download is starting" in str(e):
                continue
            raise
        if resp is None or resp.status >= 500:
            failures.append((f"{who}:{u.path}", 0, href, [f"answered {resp and resp.status}"]))
            continue
        check(page, f"{who}:{u.path}")


def sign_in_staff(browser, user):
    ctx = browser.new_context(locale="vi-VN", bypass_csp=True, viewport={"width": 360, "height": 800})
    p = ctx.new_page()
    p.goto(f"{base}/staff/login")
    p.fill("#u", user)
    p.fill("#pw", password)
    p.click("form[action='/staff/login'] button[type=submit]")
    p.wait_for_load_state("load")
    assert "/staff/login" not in p.url, f"{user} did not sign in: {p.url}"
    return p


def sign_in_citizen(browser, id_number):
    ctx = browser.new_context(locale="vi-VN", bypass_csp=True, viewport={"width": 360, "height": 800}, accept_downloads=True)
    p = ctx.new_page()
    p.goto(f"{base}/login")
    p.fill("#id", id_number)
    p.fill("#pw", password)
    p.click("form[action='/login'] button[type=submit]")
    expect(p).to_have_url(re.compile(r"/me\b"))
    return p


with sync_playwright() as pw:
    browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)

    # Public pages.
    pub = browser.new_context(locale="vi-VN", bypass_csp=True, viewport={"width": 360, "height": 800}).new_page()
    visit(pub, "/", "home")
    visit(pub, "/?lang=en", "home-en")
    visit(pub, "/register", "register")
    pub.click("form[action='/register'] button[type=submit]")  # empty form: the browser's own checks
    visit(pub, "/login", "login")
    pub.fill("#id", "00119001234")
    pub.fill("#pw", "wrong password")
    pub.click("form[action='/login'] button[type=submit]")
    check(pub, "login-error")
    visit(pub, "/staff/login", "staff-login")
    visit(pub, "/verify", "verify")
    pub.set_input_files("#f", input_pdf)
    expect(pub.locator("#out")).not_to_be_empty(timeout=15000)
    pub.wait_for_function("!document.getElementById('out').textContent.includes('…')", timeout=15000)
    check(pub, "verify-result")
    visit(pub, "/huong-dan", "guide")
    visit(pub, "/g/hl-motcua", "guide-scan")
    visit(pub, "/trang-khong-co", "not-found", 404)
    visit(pub, "/register?lang=en", "register-en")
    visit(pub, "/verify?lang=en", "verify-en")
    visit(pub, "/ben-tin-cay/danh-sach", "trust-list")
    visit(pub, "/ben-tin-cay/danh-sach?lang=en", "trust-list-en")
    visit(pub, "/trang-khong-co?lang=en", "not-found-en", 404)
    crawl(pub, "public")

    # A level-1 citizen.
    l1 = sign_in_citizen(browser, l1_id)
    check(l1, "me-level1")

    # A level-2 citizen: choose a provider, confirm, activate, certificates, sign.
    me = sign_in_citizen(browser, l2_id)
    check(me, "me-level2")
    visit(me, "/me/provider", "provider")
    me.locator("input[name=provider]").first.check()
    me.click("form[action='/me/confirm'] button[type=submit]")
    check(me, "confirm")
    me.locator("input[type=checkbox]").first.check()
    me.locator("main form button[type=submit], main form button:not([type])").first.click()
    me.wait_for_load_state("load")
    check(me, "activate")
    me.fill("#pin", PIN)
    me.fill("#pin2", PIN)
    me.locator("main form button[type=submit], main form button:not([type])").first.click()
    me.wait_for_load_state("load")
    check(me, "activated")
    visit(me, "/me/certificates", "certificates")
    link = me.locator("main a[href^='/me/certificates/']").first
    if link.count():
        link.click()
        me.wait_for_load_state("load")
        check(me, "certificate")
    else:
        failures.append(("certificate", 0, me.url, ["no link to a certificate on /me/certificates"]))
    visit(me, "/me/sign", "sign")
    crawl(me, "citizen")

    # The desk: lookup, a person found, results, the poster.
    desk = sign_in_staff(browser, "hotro.hieplu")
    visit(desk, "/desk", "desk")
    desk.fill("#id", l1_id)
    desk.click("form[action='/desk/lookup'] button[type=submit]")
    desk.wait_for_load_state("load")
    check(desk, "desk-lookup")
    # Confirm level 2, then record the session (whatever page each answer is).
    desk.locator("form[action='/desk/verify'] input[type=checkbox]").first.check()
    desk.click("form[action='/desk/verify'] button[type=submit]")
    desk.wait_for_load_state("load")
    check(desk, "desk-verified")
    if desk.locator("form[action='/desk/session']").count() == 0:
        desk.fill("#id", l1_id)
        desk.click("form[action='/desk/lookup'] button[type=submit]")
        desk.wait_for_load_state("load")
    session = desk.locator("form[action='/desk/session']")
    session.locator("input[type=checkbox]").first.check()
    session.locator("button[type=submit]").click()
    desk.wait_for_load_state("load")
    check(desk, "desk-session-recorded")
    visit(desk, "/desk/results", "desk-results")
    visit(desk, "/desk/points/hl-motcua/poster", "poster")
    crawl(desk, "desk")

    # A commune officer: the campaign pages, reached through the dashboard's links.
    xa = sign_in_staff(browser, "canbo.xa")
    visit(xa, "/campaign", "campaign-dashboard")
    links = [a.get_attribute("href") for a in xa.locator("main a[href^='/campaign/']").all()]

    def linked(prefix):
        found = [h for h in links if h.startswith(prefix)]
        assert found, f"the dashboard links no {prefix}: {links}"
        return found[0]

    worklist = linked("/campaign/worklist?")
    commune = re.search(r"commune=([0-9]+)", worklist).group(1)
    visit(xa, worklist, "worklist")
    xa.locator("form.visit button[type=submit], form[action='/campaign/visit'] button[type=submit]").first.click()
    xa.wait_for_load_state("load")
    check(xa, "worklist-saved")
    visit(xa, linked("/campaign/ranking?"), "ranking")
    visit(xa, "/campaign/reports", "reports")
    visit(xa, f"/campaign/reports/unit?unit={commune}&freq=weekly", "report-form")
    visit(xa, "/campaign/tasks", "tasks")
    visit(xa, linked("/campaign/reconcile?"), "reconcile")
    visit(xa, linked("/campaign/renewals?"), "renewals")
    visit(xa, linked("/campaign/notify?"), "notify")
    visit(xa, "/campaign?date=2025-13-45", "bad-query", 400)
    visit(xa, "/campaign/training", "training")
    visit(xa, "/campaign/hotline", "hotline-commune")
    crawl(xa, "commune")

    # A province officer.
    tinh = sign_in_staff(browser, "canbo.tinh")
    visit(tinh, "/campaign", "province-dashboard")
    visit(tinh, "/campaign/ranking", "province-ranking")
    visit(tinh, "/campaign/reports", "province-reports")
    # The commune police's report, awaiting the province's approval: the review form.
    visit(tinh, "/campaign/reports/unit?unit=01960-CA&freq=weekly", "report-review")
    crawl(tinh, "province")

    # The hotline operator: the question log, the FAQ and the hours.
    tongdai = sign_in_staff(browser, "tongdai")
    visit(tongdai, "/campaign/hotline", "hotline")

    # The national administrator.
    quantri = sign_in_staff(browser, "quantri")
    check(quantri, "admin-desk")
    visit(quantri, "/campaign", "national-dashboard")
    crawl(quantri, "national")

    browser.close()

print("pages checked: " + " ".join(checked), flush=True)
if failures:
    print(f"{len(failures)} page checks failed:", flush=True)
    for name, w, url, problems in failures:
        print(f"  {name} @{w}px {url}: {len(problems)} problems", flush=True)
    sys.exit(1)
print(f"all {len(checked)} page checks passed", flush=True)
