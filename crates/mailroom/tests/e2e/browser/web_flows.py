"""The web admin and the self-service pages in headless Chromium, driven by Selenium against a
running `mailroom serve` (started by web_browser.rs, which passes the ports and accounts).

Flow "admin": an administrator signs in, creates an account on the web admin and sees its
quota bar; a message delivered to it (LMTP) is deleted over IMAP and restored from the web
admin's recover page, and IMAP shows it back in INBOX.

Flow "user": a user signs in at /account, changes the password (the old one then fails over
IMAP, the new one works), makes an app password and logs in with it over IMAP, and downloads
the set-up page's .mobileconfig (a plist naming the IMAP host and port).

Every page visited is screenshotted into --shots; the admin accounts page and the set-up page
also at phone size. Prints "STEP ..." as it goes and "ALL FLOWS PASSED" at the end; any failed
check raises, with what the page showed.
"""

import argparse
import base64
import http.client
import imaplib
import os
import plistlib
import shutil
import smtplib
import sys
import tempfile
import urllib.parse

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-default-browser-check",
    "--metrics-recording-only",
    "--password-store=basic",
]
PHONE = (390, 844)


def step(text):
    print("STEP", text, flush=True)


class Browser:
    def __init__(self, args, profile_dir):
        self.base = f"http://127.0.0.1:{args.http}"
        self.shots = args.shots
        self.count = 0
        options = webdriver.ChromeOptions()
        options.binary_location = args.chromium
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile_dir}")
        options.add_argument("--window-size=1280,900")
        options.add_experimental_option(
            "prefs",
            {
                "credentials_enable_service": False,
                "profile.password_manager_enabled": False,
                "download.default_directory": os.path.join(profile_dir, "downloads"),
                "download.prompt_for_download": False,
            },
        )
        self.driver = webdriver.Chrome(service=Service(args.chromedriver), options=options)
        self.driver.set_page_load_timeout(20)

    def quit(self):
        self.driver.quit()

    # -- looking at the page

    def path(self):
        url = urllib.parse.urlsplit(self.driver.current_url)
        return url.path + (f"?{url.query}" if url.query else "")

    def h1(self):
        return self.driver.find_element(By.TAG_NAME, "h1").text

    def main_text(self):
        """The page's content: its <main>, or the whole body of a page without the layout."""
        found = self.driver.find_elements(By.TAG_NAME, "main")
        return (found[0] if found else self.driver.find_element(By.TAG_NAME, "body")).text

    def check(self, condition, what):
        if not condition:
            raise AssertionError(
                f"{what}\n  at {self.path()}\n  the page shows:\n{self.main_text()}"
            )

    def expect_page(self, path, title):
        """The browser is on `path` (query included when given) with the heading `title`."""
        here = self.path() if "?" in path else self.path().split("?")[0]
        self.check(here == path, f"expected to be on {path}, not {here}")
        self.check(self.h1() == title, f"expected the heading {title!r}, not {self.h1()!r}")
        self.check(
            self.driver.title == f"{title} · Mailroom",
            f"the window title is {self.driver.title!r}",
        )
        # The stylesheet is applied: the sections are white cards on the grey page.
        background = self.driver.execute_script(
            "return getComputedStyle(document.body).backgroundColor"
        )
        self.check(background == "rgb(246, 247, 249)", f"page unstyled? body {background}")

    def notice(self):
        found = self.driver.find_elements(By.CSS_SELECTOR, "main .notice[role=status]")
        return found[0].text if found else None

    def error(self):
        found = self.driver.find_elements(By.CSS_SELECTOR, "main .error[role=alert]")
        return found[0].text if found else None

    # -- moving around

    def open(self, path):
        self.driver.get(self.base + path)

    def submit(self, button):
        """Clicks a form's button (or a link) and waits for the answer page to replace this
        one and finish loading."""
        old = self.driver.find_element(By.TAG_NAME, "html")
        button.click()
        # Mid-navigation Chromium may answer about the old page with other errors than
        # "stale" ("Node with given id does not belong to the document"): poll on.
        wait = WebDriverWait(self.driver, 15, ignored_exceptions=(WebDriverException,))
        wait.until(expected_conditions.staleness_of(old))
        wait.until(lambda d: d.execute_script("return document.readyState") == "complete")

    def click_link(self, text):
        self.submit(self.driver.find_element(By.LINK_TEXT, text))

    def fill(self, field_id, value):
        field = self.driver.find_element(By.ID, field_id)
        field.clear()
        field.send_keys(value)

    def sign_in(self, address, password):
        self.fill("address", address)
        self.fill("password", password)
        self.submit(self.driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button"))

    def sign_out(self):
        self.submit(self.driver.find_element(By.CSS_SELECTOR, "form[action='/logout'] button"))
        self.expect_page("/login", "Sign in")
        self.check(self.session_cookie() in (None, ""), "the session cookie is gone")

    def session_cookie(self):
        cookie = self.driver.get_cookie("mailroom_session")
        return cookie["value"] if cookie else None

    # -- screenshots

    def _png(self, name):
        self.count += 1
        path = os.path.join(self.shots, f"{self.count:02d}-{name}.png")
        metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        size = metrics["cssContentSize"]
        shot = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {
                    "x": 0,
                    "y": 0,
                    "width": size["width"],
                    "height": size["height"],
                    "scale": 1,
                },
            },
        )
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        return path

    def shot(self, name):
        """The whole page, at the desktop window's width."""
        print("SHOT", self._png(name), flush=True)

    def phone_shot(self, name):
        """The page as a phone shows it (390x844 CSS pixels, the viewport meta tag honoured),
        whole; checks nothing makes the page itself wider than the phone's screen."""
        width, height = PHONE
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True},
        )
        try:
            self.driver.refresh()
            page_width = self.driver.execute_script(
                "return document.documentElement.scrollWidth"
            )
            print("SHOT", self._png(f"{name}-phone"), f"page width {page_width}", flush=True)
            self.check(
                page_width <= width,
                f"on a {width}px phone the page is {page_width}px wide: it scrolls sideways",
            )
            # Nor is any table cell hidden to the right, in a table's own sideways scroll.
            hidden = self.driver.execute_script(
                "return [...document.querySelectorAll('main td')]"
                ".filter(td => td.getBoundingClientRect().right > window.innerWidth + 1)"
                ".map(td => td.textContent.trim())"
            )
            self.check(not hidden, f"on a {width}px phone these cells are off screen: {hidden}")
        finally:
            self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
            self.driver.refresh()


# -- IMAP and delivery


def imap_login(args, address, password):
    """An IMAP session, or the server's refusal as a string."""
    c = imaplib.IMAP4("127.0.0.1", args.imap)
    try:
        c.login(address, password)
    except imaplib.IMAP4.error as e:
        c.logout()
        return str(e)
    return c


def imap_logs_in(args, address, password):
    c = imap_login(args, address, password)
    if isinstance(c, str):
        return False
    c.logout()
    return True


def inbox_subjects(c):
    c.select("INBOX")
    typ, found = c.search(None, "ALL")
    numbers = found[0].split()
    if not numbers:
        return []
    typ, data = c.fetch(b",".join(numbers).decode(), "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    return [
        part[1].decode().strip().removeprefix("Subject: ")
        for part in data
        if isinstance(part, tuple)
    ]


def http_get(args, path, cookie):
    """`path` fetched with the browser's session cookie: (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", args.http, timeout=15)
    conn.request("GET", path, headers={"Cookie": f"mailroom_session={cookie}"})
    r = conn.getresponse()
    out = (r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    conn.close()
    return out


def http_post(args, path, cookie, fields):
    conn = http.client.HTTPConnection("127.0.0.1", args.http, timeout=15)
    conn.request(
        "POST",
        path,
        body=urllib.parse.urlencode(fields),
        headers={
            "Cookie": f"mailroom_session={cookie}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    r = conn.getresponse()
    out = (r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    conn.close()
    return out


# -- the flows


def admin_flow(b, args):
    new = args.new_account
    subject = "Quarterly report"
    body = ("Figures, line after line.\r\n" * 8000).encode()  # ~200 KiB: the bar moves

    step("admin: /admin asks to sign in")
    b.open("/admin")
    b.expect_page("/login?next=/admin", "Sign in")
    b.check(b.driver.find_element(By.ID, "password").get_attribute("type") == "password",
            "the password field hides what is typed")
    b.shot("login")

    step("admin: a wrong password is refused on the page")
    b.sign_in(args.admin, "not-the-password")
    b.expect_page("/login", "Sign in")
    b.check(b.error() == "Wrong address or password.", f"the refusal: {b.error()!r}")
    b.check(b.driver.find_element(By.ID, "address").get_attribute("value") == args.admin,
            "the address typed stays filled in")
    b.shot("login-refused")

    step("admin: signs in and lands on the administration page")
    b.sign_in(args.admin, args.admin_password)
    b.expect_page("/admin", "Administration")
    text = b.main_text()
    b.check(args.hostname in text, "the server's hostname is shown")
    counted = b.driver.find_element(By.XPATH, "//main//tr[th='Accounts']/td").text
    b.check(counted == "2", f"two accounts so far, not {counted}")
    header = b.driver.find_element(By.TAG_NAME, "header").text
    b.check(f"Sign out {args.admin}" in header, f"the header names who is signed in: {header}")
    b.shot("admin-home")

    step("admin: the accounts page lists the accounts")
    b.click_link("Accounts")
    b.expect_page("/admin/accounts", "Accounts")
    rows = b.driver.find_elements(By.CSS_SELECTOR, "main table tr")
    listed = [r.text for r in rows]
    b.check(any(args.admin in r and "administrator" in r for r in listed),
            f"the administrator is listed as one: {listed}")
    b.check(any(args.user in r for r in listed), f"the user is listed: {listed}")
    b.shot("admin-accounts")

    step("admin: creates an account with a 1 MiB quota and a generated password")
    b.fill("address", new)
    b.fill("quota", "1MiB")
    b.submit(b.driver.find_element(By.CSS_SELECTOR, "form[action='/admin/accounts'] button"))
    b.expect_page("/admin/accounts", "Accounts")
    b.check(b.notice() == f"Account {new} created.", f"the notice: {b.notice()!r}")
    password = b.driver.find_element(By.ID, "new-password").text.strip()
    b.check(len(password) >= 12, f"a generated password is shown: {password!r}")
    row = b.driver.find_element(By.XPATH, f"//main//tr[td/a[text()='{new}']]")
    b.check("0 B of 1.0 MiB" in row.text and "active" in row.text, f"the new row: {row.text}")
    bar = row.find_element(By.CSS_SELECTOR, "[role=meter]")
    b.check(bar.get_attribute("aria-valuenow") == "0", "an empty quota bar")
    b.shot("admin-account-created")
    b.check(imap_logs_in(args, new, password), "the generated password logs in over IMAP")

    step("admin: a delivered message fills the quota bar")
    lmtp = smtplib.LMTP("127.0.0.1", args.lmtp)
    message = (
        f"From: Accounting <acct@example.org>\r\nTo: {new}\r\nSubject: {subject}\r\n"
        "Message-ID: <report.1@example.org>\r\n\r\n"
    ).encode() + body
    refused = lmtp.sendmail("acct@example.org", [new], message)
    lmtp.quit()
    b.check(refused == {}, f"LMTP took the message: {refused}")
    b.open("/admin/accounts")
    row = b.driver.find_element(By.XPATH, f"//main//tr[td/a[text()='{new}']]")
    bar = row.find_element(By.CSS_SELECTOR, "[role=meter]")
    percent = int(bar.get_attribute("aria-valuenow"))
    b.check(15 <= percent <= 25, f"about a fifth of the quota is used: {percent}%")
    b.check("KiB of 1.0 MiB" in row.text, f"the usage in words: {row.text}")
    fill = bar.find_element(By.TAG_NAME, "span")
    drawn = b.driver.execute_script(
        "return [arguments[0].getBoundingClientRect().width,"
        " arguments[1].getBoundingClientRect().width]",
        bar,
        fill,
    )
    b.check(drawn[0] > 0 and abs(drawn[1] / drawn[0] * 100 - percent) < 2,
            f"the bar is drawn {percent}% full: {drawn}")
    b.shot("admin-accounts-usage")
    b.phone_shot("admin-accounts")

    step("admin: the message is deleted over IMAP")
    c = imap_login(args, new, password)
    b.check(not isinstance(c, str), f"IMAP login: {c}")
    b.check(inbox_subjects(c) == [subject], "the message is in INBOX")
    c.store("1", "+FLAGS", "(\\Deleted)")
    c.expunge()
    b.check(inbox_subjects(c) == [], "INBOX is empty after EXPUNGE")
    c.logout()

    step("admin: the account's page and its recover page list the deleted message")
    b.click_link(new)
    b.expect_page(f"/admin/accounts/{urllib.parse.quote(new, safe='')}", new)
    text = b.main_text()
    b.check("0 messages" in text, f"the account page counts no messages now: {text}")
    b.shot("admin-account")
    b.click_link("Recover deleted mail")
    recover_path = f"/admin/accounts/{urllib.parse.quote(new, safe='')}/recover"
    b.expect_page(recover_path, f"Deleted mail of {new}")
    rows = b.driver.find_elements(By.XPATH, "//main//tr[td/input[@type='checkbox']]")
    b.check(len(rows) == 1, f"one recoverable message: {[r.text for r in rows]}")
    b.check(subject in rows[0].text and "INBOX" in rows[0].text and "acct@example.org"
            in rows[0].text, f"the row names subject, folder and sender: {rows[0].text}")
    b.shot("admin-recover")
    b.phone_shot("admin-recover")

    step("admin: restores it from the recover page")
    b.driver.find_element(By.XPATH, f"//main//label[text()='{subject}']").click()
    checkbox = b.driver.find_element(By.CSS_SELECTOR, "main input[type=checkbox][name=id]")
    b.check(checkbox.is_selected(), "clicking the subject ticks its box")
    b.submit(b.driver.find_element(By.XPATH, "//button[text()='Restore the selected messages']"))
    b.expect_page(recover_path, f"Deleted mail of {new}")
    b.check(b.notice() == "The messages were restored.", f"the notice: {b.notice()!r}")
    b.check("Nothing to recover." in b.main_text(), "the list is empty now")
    b.shot("admin-recovered")

    step("admin: IMAP shows the message back in INBOX")
    c = imap_login(args, new, password)
    b.check(inbox_subjects(c) == [subject], "the message is back in INBOX")
    typ, data = c.fetch("1", "(BODY.PEEK[TEXT])")
    b.check(data[0][1] == body, "with its body intact")
    c.logout()

    step("admin: signs out")
    b.sign_out()
    b.open("/admin/accounts")
    b.expect_page("/login?next=/admin/accounts", "Sign in")


def user_flow(b, args):
    user = args.user
    new_password = "correct horse battery"

    step("user: /account asks to sign in, then shows the account")
    b.open("/account")
    b.expect_page("/login?next=/account", "Sign in")
    b.sign_in(user, args.user_password)
    b.expect_page("/account", "My account")
    text = b.main_text()
    b.check(user in text and "Storage:" in text, f"the account and its storage: {text}")
    header = b.driver.find_element(By.TAG_NAME, "header").text
    b.check("Administration" not in header, "no admin link for a user")
    b.shot("account")

    step("user: the admin pages are closed to a user")
    b.open("/admin/accounts")
    b.expect_page("/admin/accounts", "Administrators only")
    body = b.main_text()
    b.check("This page is for the server's administrators" in body and user in body,
            f"a user on /admin: {body}")
    b.shot("admin-refused")
    b.click_link("Your account")
    b.expect_page("/account", "My account")

    step("user: a mistyped repeat is refused on the page")
    b.fill("current", args.user_password)
    b.fill("new", new_password)
    b.fill("again", new_password + "!")
    b.submit(b.driver.find_element(By.CSS_SELECTOR, "form[action='/account/password'] button"))
    # A refused form is answered with the page again, at the form's address.
    b.expect_page("/account/password", "My account")
    b.check(b.error() == "The new passwords differ.", f"the refusal: {b.error()!r}")
    b.check(imap_logs_in(args, user, args.user_password), "the password is unchanged")
    b.shot("account-password-mismatch")

    step("user: changes the password")
    b.fill("current", args.user_password)
    b.fill("new", new_password)
    b.fill("again", new_password)
    b.submit(b.driver.find_element(By.CSS_SELECTOR, "form[action='/account/password'] button"))
    # The session was sealed with the old password: the user signs in again.
    b.expect_page("/login?next=/account&notice=password", "Sign in")
    b.check(b.notice() == "Your password was changed. Sign in with the new one.",
            f"the sign-in page says why: {b.notice()!r}")
    b.shot("login-after-password-change")
    refusal = imap_login(args, user, args.user_password)
    b.check(isinstance(refusal, str) and "AUTHENTICATIONFAILED" in refusal,
            f"the old password fails over IMAP: {refusal}")
    b.check(imap_logs_in(args, user, new_password), "the new password logs in over IMAP")

    step("user: signs in with the new password and makes an app password")
    b.sign_in(user, new_password)
    b.expect_page("/account", "My account")
    b.fill("app-name", "Phone")
    b.submit(b.driver.find_element(By.CSS_SELECTOR, "form[action='/account/app-passwords'] button"))
    b.expect_page("/account/app-passwords", "My account")
    secret = b.driver.find_element(By.ID, "new-secret").text.strip()
    b.check(len(secret) >= 16, f"the app password is shown: {secret!r}")
    names = [r.text for r in b.driver.find_elements(By.XPATH, "//main//tr[td]")]
    b.check(any(r.startswith("Phone ") and "Revoke" in r for r in names),
            f"the app passwords table lists it: {names}")
    b.shot("account-app-password")
    b.check(imap_logs_in(args, user, secret), "the app password logs in over IMAP")
    b.open("/account")
    b.check(b.driver.find_elements(By.ID, "new-secret") == [], "the secret is not shown again")

    step("user: the set-up page shows the server's settings")
    b.click_link("Set up your email software")
    b.expect_page("/account/setup", "Set up your email software")
    rows = [r.text for r in b.driver.find_elements(By.XPATH, "//main//tr[td]")]
    imap_row = next((r for r in rows if r.startswith("IMAP")), "")
    b.check(args.hostname in imap_row and str(args.imap) in imap_row and "STARTTLS" in imap_row
            and user in imap_row, f"the IMAP settings: {rows}")
    smtp_row = next((r for r in rows if r.startswith("SMTP")), "")
    b.check(str(args.submission) in smtp_row, f"the SMTP settings: {rows}")
    b.shot("setup")
    b.phone_shot("setup")

    step("user: downloads the .mobileconfig from the page's link")
    link = b.driver.find_element(By.LINK_TEXT, "Download the profile")
    href = urllib.parse.urlsplit(link.get_attribute("href"))
    b.check(link.get_attribute("download") is not None, "the link downloads")
    status, headers, profile = http_get(args, href.path, b.session_cookie())
    b.check(status == 200, f"the profile downloads: {status} {profile[:200]!r}")
    b.check(headers.get("content-type") == "application/x-apple-aspen-config",
            f"as a configuration profile: {headers}")
    b.check(headers.get("content-disposition") == f'attachment; filename="{user}.mobileconfig"',
            f"named for the account: {headers}")
    plist = plistlib.loads(profile)
    b.check(plist["PayloadType"] == "Configuration", f"a configuration profile: {plist}")
    mail = plist["PayloadContent"][0]
    expected = {
        "PayloadType": "com.apple.mail.managed",
        "EmailAccountType": "EmailTypeIMAP",
        "EmailAddress": user,
        "IncomingMailServerHostName": args.hostname,
        "IncomingMailServerPortNumber": args.imap,
        "IncomingMailServerUseSSL": False,
        "IncomingMailServerUsername": user,
        "OutgoingMailServerHostName": args.hostname,
        "OutgoingMailServerPortNumber": args.submission,
    }
    wrong = {k: mail.get(k) for k, v in expected.items() if mail.get(k) != v}
    b.check(not wrong, f"the profile's mail settings differ: {wrong} (expected {expected})")
    b.check("IncomingPassword" not in mail, "no password in the plain profile")
    status, _, _ = http_get(args, href.path, "")
    b.check(status in (302, 303, 307), f"not without a session: {status}")

    step("user: downloads the profile with an app password inside")
    csrf = b.driver.find_element(
        By.CSS_SELECTOR, "form[action='/account/mobileconfig'] input[name=csrf]"
    ).get_attribute("value")
    status, headers, profile = http_post(
        args, "/account/mobileconfig", b.session_cookie(), {"csrf": csrf, "device": "iPad"}
    )
    b.check(status == 200, f"the profile with a password: {status} {profile[:200]!r}")
    mail = plistlib.loads(profile)["PayloadContent"][0]
    inside = mail.get("IncomingPassword", "")
    b.check(imap_logs_in(args, user, inside), f"its password logs in over IMAP: {inside!r}")
    status, _, _ = http_post(
        args, "/account/mobileconfig", b.session_cookie(), {"csrf": "forged", "device": "x"}
    )
    b.check(status == 403, f"a forged form is refused: {status}")
    b.open("/account")
    names = [r.text for r in b.driver.find_elements(By.XPATH, "//main//tr[td]")]
    b.check(any(r.startswith("iPad profile ") for r in names), f"its app password: {names}")
    b.shot("account-after-profile")

    step("user: signs out")
    b.sign_out()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--http", type=int, required=True)
    p.add_argument("--imap", type=int, required=True)
    p.add_argument("--lmtp", type=int, required=True)
    p.add_argument("--submission", type=int, required=True)
    p.add_argument("--hostname", required=True)
    p.add_argument("--admin", required=True)
    p.add_argument("--admin-password", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--user-password", required=True)
    p.add_argument("--new-account", required=True)
    p.add_argument("--shots", required=True)
    p.add_argument("--chromium", default="/usr/bin/chromium")
    p.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = p.parse_args()
    os.makedirs(args.shots, exist_ok=True)
    # Selenium Manager would look for drivers online; the paths are given.
    os.environ["SE_OFFLINE"] = "true"
    profile_dir = tempfile.mkdtemp(prefix="mailroom-chromium-")
    browser = None
    try:
        browser = Browser(args, profile_dir)
        admin_flow(browser, args)
        browser.driver.delete_all_cookies()
        user_flow(browser, args)
    except (AssertionError, WebDriverException, imaplib.IMAP4.error, OSError) as e:
        print(f"FAILED: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        if browser:
            try:
                print("FAILED at", browser.path(), file=sys.stderr)
                browser.shot("failure")
            except WebDriverException:
                pass
        sys.exit(1)
    finally:
        if browser:
            browser.quit()
        shutil.rmtree(profile_dir, ignore_errors=True)
    print("ALL FLOWS PASSED", flush=True)


if __name__ == "__main__":
    main()
