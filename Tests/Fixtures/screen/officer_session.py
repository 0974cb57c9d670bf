#!/usr/bin/env python3
"""The officer's screen in a real browser: headless Chromium (Debian's chromium and
chromium-driver) driven by Selenium through a session an officer would have. Run by
Tests/SystemTests/ScreenTests.swift against the whole stack; exits non-zero at the first
step that does not show what it should, and writes screenshots into --out.

  officer_session.py URL --out DIR --dispatch-cmd CMD --bulletin-cmd CMD --stop-center-cmd CMD --wanted-id ID
"""
import argparse
import subprocess
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--out", required=True)
    parser.add_argument("--dispatch-cmd", required=True)
    parser.add_argument("--bulletin-cmd", required=True)
    parser.add_argument("--stop-center-cmd", required=True)
    parser.add_argument("--language", default="zh-TW")
    parser.add_argument("--wanted-id", required=True)
    args = parser.parse_args()

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1000,1400", f"--lang={args.language}"]:
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": args.language})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    wait = WebDriverWait(driver, 30)
    step = lambda text: print(f"screen: {text}", flush=True)

    def shoot(element, name):
        driver.execute_script("arguments[0].scrollIntoView({block: 'end'})", element)
        driver.save_screenshot(f"{args.out}/{name}")
    try:
        driver.get(args.url)
        step("sign in")
        wait.until(EC.visibility_of_element_located((By.ID, "signin")))
        assert "員警登入" in driver.find_element(By.CSS_SELECTOR, "#signin h1").text, "Traditional Chinese first"
        driver.find_element(By.NAME, "officerId").send_keys("OF-0042")
        driver.find_element(By.CSS_SELECTOR, "#signin-form input[name=pin]").send_keys("420042")
        driver.find_element(By.CSS_SELECTOR, "#signin-form button[type=submit]").click()
        wait.until(EC.visibility_of_element_located((By.ID, "app")))
        wait.until(EC.text_to_be_present_in_element((By.ID, "sb-officer"), "OF-0042"))

        def check_plate(plate, outcome):
            entry = driver.find_element(By.CSS_SELECTOR, "#check-form input[name=entry]")
            entry.clear()
            entry.send_keys(plate)
            driver.find_element(By.CSS_SELECTOR, "#check-form button[type=submit]").click()
            wait.until(lambda d: d.find_element(By.ID, "answer").get_attribute("data-outcome") == outcome
                       and plate.replace("-", "").upper().replace("O", "0") in d.find_element(By.CSS_SELECTOR, "#answer .outcome").text.replace("-", "").replace("O", "0"))
            return driver.find_element(By.ID, "answer")

        step("BLT-8023: HIT")
        card = check_plate("BLT-8023", "hit")
        assert "命中" in card.text and "BLT-8023" in card.text, card.text
        assert "行動前須向中心確認" in card.text, "a cached hit says to confirm before acting"
        shoot(card, "screen-hit.png")

        step("the hit confirmed with the center from the card")
        card.find_element(By.CSS_SELECTOR, ".confirmation button.ask").click()
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#answer .confirmation").get_attribute("data-state") == "still-active")
        assert "中心確認：仍有效" in driver.find_element(By.CSS_SELECTOR, "#answer .confirmation").text

        step("8LT-8O23: POSSIBLE HIT, the differing positions marked")
        card = check_plate("8LT-8O23", "possible-hit")
        marked = card.find_elements(By.CSS_SELECTOR, ".plate-compare .diff")
        assert len(marked) >= 2, f"{len(marked)} marked positions"
        assert "可能命中" in card.text, card.text
        reason = card.find_element(By.CSS_SELECTOR, '[data-code="plate.confusable"]')
        assert "第 1 碼：輸入 8，列管 B" in reason.text, "the daemon's reason, in the screen's language: " + reason.text
        warning = card.find_element(By.CSS_SELECTOR, '.warnings [data-code="plate.layout-if-misread"]')
        assert "所輸入的車牌不符合任何臺灣車牌格式" in warning.text, warning.text
        shoot(card, "screen-possible-hit.png")

        step("a wanted person by ID: the photos beside the record, arriving over the event stream")
        driver.find_element(By.CSS_SELECTOR, ".kinds button[data-kind=id]").click()
        entry = driver.find_element(By.CSS_SELECTOR, "#check-form input[name=entry]")
        entry.clear()
        entry.send_keys(args.wanted_id)
        driver.find_element(By.CSS_SELECTOR, "#check-form select[name=purpose] option[value='law-6-1']").click()
        driver.find_element(By.CSS_SELECTOR, "#check-form button[type=submit]").click()
        wait.until(lambda d: d.find_element(By.ID, "answer").get_attribute("data-outcome") == "hit")
        card = driver.find_element(By.ID, "answer")
        figures = card.find_elements(By.CSS_SELECTOR, "figure.photo")
        assert len(figures) == 2, f"{len(figures)} photos on the card"
        wait.until(lambda d: len([i for i in d.find_elements(By.CSS_SELECTOR, "#answer figure.photo img")
                                  if d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", i) == 240]) == 2)
        captions = [f.find_element(By.TAG_NAME, "figcaption").text for f in figures]
        assert captions == ["正面照", "全身照"], captions
        assert card.find_element(By.CSS_SELECTOR, ".caution").text == "⚠ 持有武器", "caution flags first, in the screen's language"
        shoot(card, "screen-photo.png")
        driver.find_element(By.CSS_SELECTOR, ".kinds button[data-kind=plate]").click()

        step("a dispatch arrives over the event stream")
        driver.find_element(By.CSS_SELECTOR, "nav button[data-tab=dispatch]").click()
        subprocess.run(args.dispatch_cmd, shell=True, check=True, stdout=subprocess.DEVNULL)
        item = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#dispatches li.dispatch")))
        assert "信義路" in item.text, item.text
        for status, label in [("en-route", "前往中"), ("on-scene", "已到場"), ("cleared", "已結案")]:
            driver.find_element(By.CSS_SELECTOR, f"#dispatches li.dispatch button[data-status={status}]").click()
            if status == "cleared":
                alert = wait.until(EC.alert_is_present())
                alert.send_keys("處理完畢")
                alert.accept()
            wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#dispatches li.dispatch .state"), label))
            step(f"  {status}")
        driver.save_screenshot(f"{args.out}/screen-dispatch.png")

        step("the emergency button: one press raises it, the bar shows it; the PIN cancels it")
        driver.find_element(By.ID, "emergency").click()
        wait.until(lambda d: "active" in d.find_element(By.ID, "emergency").get_attribute("class"))
        assert "求援中" in driver.find_element(By.ID, "emergency").text, driver.find_element(By.ID, "emergency").text
        driver.find_element(By.ID, "emergency").click()
        alert = wait.until(EC.alert_is_present())
        alert.send_keys("420042")
        alert.accept()
        wait.until(lambda d: "active" not in d.find_element(By.ID, "emergency").get_attribute("class"))
        assert driver.find_element(By.ID, "emergency").text == "緊急求援"

        step("an urgent bulletin: the status bar and a banner say so; the next check of the plate matches it")
        subprocess.run(args.bulletin_cmd, shell=True, check=True, stdout=subprocess.DEVNULL)
        wait.until(lambda d: "緊急通報：BOL7788" in d.find_element(By.ID, "banner").text)
        wait.until(lambda d: d.find_element(By.ID, "sb-bulletins").is_displayed()
                   and "緊急通報 1 則" in d.find_element(By.ID, "sb-bulletins").text)
        driver.find_element(By.CSS_SELECTOR, "nav button[data-tab=check]").click()
        card = check_plate("BOL-7788", "hit")
        bulletin = card.find_element(By.CSS_SELECTOR, ".bulletin")
        assert "搶案逃逸車輛" in bulletin.text and "緊急通報" in bulletin.text, bulletin.text
        shoot(card, "screen-bulletin.png")

        step("history lists this officer's checks")
        driver.find_element(By.CSS_SELECTOR, "nav button[data-tab=history]").click()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#history li.hit, #history li.possible-hit")) >= 2)

        step("the center goes away: the status bar says so")
        subprocess.run(args.stop_center_cmd, shell=True, check=True)
        time.sleep(0.5)
        driver.find_element(By.ID, "sync-now").click()
        wait.until(lambda d: "bad" in d.find_element(By.ID, "sb-sync").get_attribute("class")
                   and "中心離線" in d.find_element(By.ID, "sb-sync").text)
        driver.save_screenshot(f"{args.out}/screen-offline.png")
        step("all steps shown")
    except Exception as error:
        driver.save_screenshot(f"{args.out}/screen-failure.png")
        print(f"screen: FAILED: {error!r}", file=sys.stderr)
        print(driver.find_element(By.TAG_NAME, "body").text, file=sys.stderr)
        sys.exit(1)
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
