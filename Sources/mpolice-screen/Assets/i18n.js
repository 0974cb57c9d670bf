// The screen's words, Traditional Chinese first, English second; chosen by the browser's
// languages. The API's own messages come in the same language (Accept-Language).
const catalogue = {
  "zh-TW": {
    "status.connecting": "連線中…", "status.online": "終端連線正常", "status.offline": "與終端斷線",
    "status.syncOk": "名單 v{version} · {age}", "status.syncFailed": "中心離線（{reason}）", "status.syncNever": "尚未同步",
    "status.outbox": "待傳 {n}", "status.gps": "GPS {state}", "status.noOfficer": "未登入", "status.syncNow": "立即同步",
    "status.stale": "名單已逾期：所有結果須向中心確認", "status.syncRequested": "已要求同步",
    "signin.title": "員警登入", "signin.officer": "員警編號", "signin.pin": "PIN 碼", "signin.otp": "動態密碼",
    "signin.submit": "登入", "lock.title": "畫面已鎖定", "lock.submit": "解鎖",
    "terminal.lockedTitle": "本終端已被中心鎖定",
    "tab.check": "查詢", "tab.dispatch": "派遣", "tab.history": "查詢紀錄", "tab.signout": "登出",
    "check.plate": "車牌", "check.vin": "車身號碼", "check.engine": "引擎號碼", "check.id": "身分證號", "check.name": "姓名＋生日", "check.licence": "駕照",
    "check.entry.plate": "車牌號碼", "check.entry.vin": "車身號碼 (VIN)", "check.entry.engine": "引擎號碼", "check.entry.id": "身分證統一編號",
    "check.personName": "姓名", "check.dob": "出生日期（可用民國）", "check.purpose": "查詢事由", "check.reference": "案號／派遣編號",
    "check.submit": "查詢", "purpose.none": "（車輛查詢可不填）",
    "purpose.law-6-1": "警職法§6I①合理懷疑有犯罪嫌疑", "purpose.law-6-2": "警職法§6I②有事實足認知情", "purpose.law-6-3": "警職法§6I③防止危害",
    "purpose.law-6-4": "警職法§6I④滯留應有停留許可處所", "purpose.law-6-5": "警職法§6I⑤管制站", "purpose.law-6-6": "警職法§6I⑥易生危害處所",
    "purpose.dispatch": "派遣案件", "purpose.case": "偵辦案件", "purpose.traffic-stop": "交通攔查",
    "outcome.hit": "命中", "outcome.possible-hit": "可能命中", "outcome.no-hit": "無資料", "outcome.document-invalid": "證照異常",
    "answer.confirm": "快取資料命中：行動前須向中心確認", "answer.list": "{list} v{version}，{age}前更新",
    "answer.stale": "名單已逾期", "answer.never": "名單從未接收", "answer.entered": "輸入", "answer.listed": "列管",
    "list.stolen-vehicles": "失竊車輛", "list.wanted-persons": "通緝人犯", "list.missing-persons": "失蹤人口", "list.officers": "員警名冊",
    "field.plate": "車牌", "field.classes": "駕照類別", "field.validUntil": "期限", "field.reason": "原因", "field.vehicle": "車輛", "field.colour": "顏色", "field.vin": "車身號碼", "field.engineNumber": "引擎號碼",
    "field.reportedAt": "報案時間", "field.caseNumber": "案號", "field.reportingUnit": "報案單位", "field.name": "姓名",
    "field.idNumber": "身分證號", "field.dateOfBirth": "出生日期", "field.sex": "性別", "field.warrantNumber": "通緝書號",
    "field.offence": "案由", "field.issuingAuthority": "發布機關", "field.missingSince": "失蹤時間", "field.description": "特徵",
    "field.contactUnit": "聯絡單位", "field.vulnerable": "需特別協助（失智／年幼）",
    "caution.armed": "持有武器", "caution.violent": "具暴力傾向", "caution.escape-risk": "有脫逃之虞", "caution.drugs": "涉毒品",
    "photo.waiting": "照片下載中…", "photo.face": "正面照", "photo.full-body": "全身照", "photo.tattoo": "刺青", "photo.scar": "疤痕", "photo.other": "照片",
    "dispatch.none": "目前沒有派遣", "dispatch.received": "已接收", "dispatch.en-route": "前往中", "dispatch.on-scene": "已到場",
    "dispatch.cleared": "已結案", "dispatch.disposition": "處理情形", "dispatch.new": "新派遣：{summary}",
    "dispatch.cancelled": "已取消", "dispatch.reassigned": "已改派", "dispatch.dispatch-updated": "派遣更新：{summary}",
    "dispatch.dispatch-cancelled": "派遣已取消：{summary}", "dispatch.dispatch-reassigned": "派遣已改派：{summary}",
    "emergency.raise": "緊急求援", "emergency.active": "求援中－點此以 PIN 取消", "emergency.cancelPin": "輸入 PIN 碼以取消緊急求援",
    "bulletins.count": "緊急通報 {n} 則", "bulletin.new": "緊急通報：{subject}－{summary}", "bulletin.title": "緊急通報",
    "bulletin.until": "有效至 {until}", "bulletin.expired": "緊急通報已失效：{subject}",
    "confirm.ask": "向中心確認", "confirm.pending": "已請求確認，等待中心回覆…", "confirm.still-active": "中心確認：仍有效",
    "confirm.no-longer-active": "中心回覆：已失效，勿依本機命中執行", "confirm.not-found": "中心查無此筆資料，勿依本機命中執行",
    "confirm.overdue": "中心未於期限內回覆，請以無線電確認",
    "history.none": "尚無查詢紀錄", "error.network": "無法連線到終端", "ago.s": "{n} 秒", "ago.m": "{n} 分鐘", "ago.h": "{n} 小時", "ago.d": "{n} 天",
  },
  en: {
    "status.connecting": "Connecting…", "status.online": "Terminal connected", "status.offline": "Terminal unreachable",
    "status.syncOk": "Lists v{version} · {age}", "status.syncFailed": "Center offline ({reason})", "status.syncNever": "Never synced",
    "status.outbox": "Outbox {n}", "status.gps": "GPS {state}", "status.noOfficer": "Not signed in", "status.syncNow": "Sync now",
    "status.stale": "Lists are stale: confirm every answer with the center", "status.syncRequested": "Sync requested",
    "signin.title": "Officer sign-in", "signin.officer": "Officer ID", "signin.pin": "PIN", "signin.otp": "One-time code",
    "signin.submit": "Sign in", "lock.title": "Screen locked", "lock.submit": "Unlock",
    "terminal.lockedTitle": "This terminal is locked by the center",
    "tab.check": "Check", "tab.dispatch": "Dispatch", "tab.history": "History", "tab.signout": "Sign out",
    "check.plate": "Plate", "check.vin": "VIN", "check.engine": "Engine no.", "check.id": "ID number", "check.name": "Name + birth date", "check.licence": "Licence",
    "check.entry.plate": "Plate number", "check.entry.vin": "Vehicle identification number", "check.entry.engine": "Engine number",
    "check.entry.id": "National ID number", "check.personName": "Name", "check.dob": "Date of birth (民國 accepted)",
    "check.purpose": "Purpose", "check.reference": "Case / dispatch reference", "check.submit": "Check", "purpose.none": "(optional for vehicles)",
    "purpose.law-6-1": "Police Powers Act §6 I(1): reasonable suspicion", "purpose.law-6-2": "§6 I(2): knowledge of a crime",
    "purpose.law-6-3": "§6 I(3): preventing danger", "purpose.law-6-4": "§6 I(4): staying where a permit is needed",
    "purpose.law-6-5": "§6 I(5): checkpoint", "purpose.law-6-6": "§6 I(6): place prone to danger",
    "purpose.dispatch": "Dispatch", "purpose.case": "Case", "purpose.traffic-stop": "Traffic stop",
    "outcome.hit": "HIT", "outcome.possible-hit": "POSSIBLE HIT", "outcome.no-hit": "NO HIT", "outcome.document-invalid": "DOCUMENT INVALID",
    "answer.confirm": "Cached hit: confirm with the center before acting", "answer.list": "{list} v{version}, updated {age} ago",
    "answer.stale": "list stale", "answer.never": "list never received", "answer.entered": "entered", "answer.listed": "listed",
    "list.stolen-vehicles": "Stolen vehicles", "list.wanted-persons": "Wanted persons", "list.missing-persons": "Missing persons", "list.officers": "Officers",
    "field.plate": "Plate", "field.classes": "Licence classes", "field.validUntil": "Until", "field.reason": "Reason", "field.vehicle": "Vehicle", "field.colour": "Colour", "field.vin": "VIN", "field.engineNumber": "Engine no.",
    "field.reportedAt": "Reported", "field.caseNumber": "Case no.", "field.reportingUnit": "Reporting unit", "field.name": "Name",
    "field.idNumber": "ID number", "field.dateOfBirth": "Date of birth", "field.sex": "Sex", "field.warrantNumber": "Warrant no.",
    "field.offence": "Offence", "field.issuingAuthority": "Issued by", "field.missingSince": "Missing since", "field.description": "Description",
    "field.contactUnit": "Contact unit", "field.vulnerable": "Vulnerable (dementia / minor)",
    "caution.armed": "armed", "caution.violent": "violent", "caution.escape-risk": "escape risk", "caution.drugs": "drugs",
    "photo.waiting": "photo on its way…", "photo.face": "Face", "photo.full-body": "Full body", "photo.tattoo": "Tattoo", "photo.scar": "Scar", "photo.other": "Photo",
    "dispatch.none": "No dispatches", "dispatch.received": "Received", "dispatch.en-route": "En route", "dispatch.on-scene": "On scene",
    "dispatch.cleared": "Cleared", "dispatch.disposition": "Disposition", "dispatch.new": "New dispatch: {summary}",
    "dispatch.cancelled": "Cancelled", "dispatch.reassigned": "Reassigned", "dispatch.dispatch-updated": "Dispatch updated: {summary}",
    "dispatch.dispatch-cancelled": "Dispatch cancelled: {summary}", "dispatch.dispatch-reassigned": "Dispatch reassigned: {summary}",
    "emergency.raise": "Officer needs help", "emergency.active": "HELP REQUESTED — tap to cancel (PIN)", "emergency.cancelPin": "PIN to cancel the emergency",
    "bulletins.count": "{n} urgent bulletin(s)", "bulletin.new": "URGENT BULLETIN: {subject} — {summary}", "bulletin.title": "Urgent bulletin",
    "bulletin.until": "until {until}", "bulletin.expired": "Bulletin expired: {subject}",
    "confirm.ask": "Confirm with the center", "confirm.pending": "Confirmation asked; waiting for the center…",
    "confirm.still-active": "Center confirms: still active", "confirm.no-longer-active": "Center: no longer active — do not act on the cached hit",
    "confirm.not-found": "Center has no such record — do not act on the cached hit", "confirm.overdue": "No answer within the deadline: confirm by radio",
    "history.none": "No checks yet", "error.network": "Cannot reach the terminal", "ago.s": "{n} s", "ago.m": "{n} min", "ago.h": "{n} h", "ago.d": "{n} d",
  },
};

export const language = (navigator.languages || [navigator.language || "zh-TW"])
  .map((l) => l.toLowerCase()).find((l) => l.startsWith("zh") || l.startsWith("en"))?.startsWith("en") ? "en" : "zh-TW";

export const keys = () => Object.keys(catalogue["zh-TW"]);
export const hasBoth = () => keys().every((k) => k in catalogue.en) && Object.keys(catalogue.en).every((k) => k in catalogue["zh-TW"]);

// The words for `key`; `fallback` (default: the key itself) when neither language has any.
export function t(key, params = {}, fallback = key) {
  const text = catalogue[language][key] ?? catalogue.en[key] ?? fallback;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ""));
}

export function age(seconds) {
  if (seconds == null) return "—";
  if (seconds < 60) return t("ago.s", { n: seconds });
  if (seconds < 3600) return t("ago.m", { n: Math.floor(seconds / 60) });
  if (seconds < 86400) return t("ago.h", { n: Math.floor(seconds / 3600) });
  return t("ago.d", { n: Math.floor(seconds / 86400) });
}

export function translatePage() {
  document.documentElement.lang = language === "en" ? "en" : "zh-Hant-TW";
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
}
