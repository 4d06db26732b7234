"""Anti-bot answers as the products serve them (crawler/blocking.py), written from what their challenge pages
look like: status, the headers that matter, and the body bytes. Tokens are made up but have the real shape
(length, alphabet); nothing here comes from a live portal."""

from __future__ import annotations

import base64
import hashlib


def token(seed: str, length: int, alphabet: str = "") -> str:
    """A deterministic random-looking token (瑞数's `$_ts.cd` is a few KB of [A-Za-z0-9._])."""
    out = ""
    block = seed.encode()
    while len(out) < length:
        block = hashlib.sha512(block).digest()
        out += base64.b64encode(block).decode().replace("+", ".").replace("/", "_").rstrip("=")
    return out[:length]


# 瑞数 (Rivers Security) Botgate: 412, a dynamic meta, the $_ts bootstrap and a randomly named script.
RUISHU_412 = (
    b'<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
    b'<meta http-equiv="Expires" content="0"><meta http-equiv="Cache-Control" content="no-cache">'
    b'<meta http-equiv="Pragma" content="no-cache"><meta http-equiv="Cache" content="no-cache">'
    b'<meta http-equiv="X-UA-Compatible" content="IE=edge">'
    b'<meta id="9DhefwqGPrzGxEp9hPaoag" content="' + token("meta", 180).encode() + b'" r=\'m\'>'
    b"<script type=\"text/javascript\" r='m'>$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=84722;$_ts.cd=\""
    + token("cd", 3200).encode() + b"\";if($_ts.lcd)$_ts.lcd();</script>"
    b"<script type=\"text/javascript\" charset=\"utf-8\" src=\"/4QbVtADbnLVIc/d.FxJzG50F.dfe1675.js\" r='m'>"
    b"</script></head><body></body></html>"
)
RUISHU_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Set-Cookie": "FSSBBIl1UgzbN7N80S=" + token("cookie-s", 64) + "; Path=/; expires=Mon, 28 Jun 2027 08:00:00 GMT;"
                  " HttpOnly",
}
# The script 瑞数 injects into the real pages once a browser has passed (a page with content is no block).
RUISHU_INJECTED = (
    b"<meta content=\"" + token("inj", 32).encode() + b"\" r=\"m\"><script type=\"text/javascript\" r='m'>"
    b"$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=4136;$_ts.cd=\"" + token("inj-cd", 900).encode()
    + b"\";</script>"
)

# 加速乐 (Jiasule), first answer: 521, a cookie named one character at a time, then a reload.
JIASULE_521 = (
    b"<script>document.cookie=('_')+('_')+('j')+('s')+('l')+('_')+('c')+('l')+('e')+('a')+('r')+('a')+('n')"
    b"+('c')+('e')+('_')+('s')+('=')+(-~[]+'')+(3+6+'')+(+!+[]+'')+((1<<2)+'')+((2^7)+'')+(~~[]+'')+('.')"
    b"+(-~(8)+'')+('|')+(-~[]+'')+('|')+('Y')+('k')+(+!+[]+'')+('%')+(2+'')+('B')+('H')+('o')+('E')"
    b"+';max-age=3600;path=/';location.href=location.pathname+location.search</script>"
)
JIASULE_HEADERS = {
    "Content-Type": "text/html",
    "Set-Cookie": "__jsluid_h=2c4c0e1b8f6a3d7e9b05a1c2d3e4f5a6; max-age=31536000; path=/; HttpOnly",
}
# 加速乐, second answer: the go({...}) call that computes __jsl_clearance_s.
JIASULE_GO = (
    b'<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
    b'<meta name="viewport" content="width=device-width,minimum-scale=1.0,maximum-scale=1.0"></head><body>'
    b"<script>var _0x4a2f=['\\x73\\x75\\x62\\x73\\x74\\x72','\\x6c\\x65\\x6e\\x67\\x74\\x68'];"
    b"(function(_0x1,_0x2){var _0x3=function(_0x4){while(--_0x4){_0x1['push'](_0x1['shift']());}};_0x3(++_0x2);}"
    b"(_0x4a2f,0x1b3));function go(_0x5){var _0x6=new Date();}"
    b'go({"bts":["1718590950.375|0|BNV","nELVxfBlj1g%3D"],"chars":"MH65p0N9580f3nELVxfBljAbCdEfGhIj",'
    b'"ct":"8f1c4a3e2b7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e","ha":"sha1","is":true,"tn":"__jsl_clearance_s",'
    b'"vt":"3600","wt":"1500"})</script></body></html>'
)

# 云锁 (Yunsuo): 200, a script that writes srcurl and jumps to ?security_verify_data=<screen size>.
YUNSUO_200 = (
    b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"/>'
    b'<meta http-equiv="pragma" content="no-cache"/><meta http-equiv="cache-control" content="no-store"/>'
    b'<meta http-equiv="Connection" content="Close"/><script type="text/javascript">'
    b'function stringToHex(str){var val="";for(var i = 0; i < str.length; i++){if(val == "")'
    b'val = str.charCodeAt(i).toString(16);else val += str.charCodeAt(i).toString(16);}return val;}'
    b'function YunSuoAutoJump(){ var width =screen.width; var height=screen.height; '
    b'var screendate = width + "," + height;var curlocation = window.location.href;'
    b'if(-1 == curlocation.indexOf("security_verify_")){ document.cookie="srcurl=" + '
    b'stringToHex(window.location.href) + ";path=/;";}'
    b'self.location = "/zwgk/index.html?security_verify_data=" + stringToHex(screendate);}</script>'
    b'<script>setTimeout("YunSuoAutoJump()", 50);</script></head><body></body></html>'
)
YUNSUO_HEADERS = {"Content-Type": "text/html", "Set-Cookie": "yunsuo_session_verify=5f1e2d3c4b5a69788796a5b4c3d2e1f0;"
                  " expires=Thu, 01-Jul-27 08:00:00 GMT; path=/; HttpOnly"}

# 360 网站卫士: 200, wzwschallenge computed by script, then a jump.
WZWS_200 = (
    b'<!DOCTYPE html><html><head><meta charset="UTF-8"><title></title></head><body>'
    b'<script type="text/javascript">var wzwschallenge="' + token("wzws", 16).encode() + b'";'
    b'var wzwschallengex="' + token("wzwsx", 8).encode() + b'";var template=5;'
    b'var encoderchars="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";'
    b'function KTKY2RBD9NHPBCIHV9ZMEQQDARSLVFDU(str){var out,i,len;out="";len=str.length;i=0;return out;}'
    b'function QWERTASDFGXYSF(){var tmp=wzwschallenge+wzwschallengex;var hash=0;return hash+template;}'
    b'var cookieString="wzwstemplate="+KTKY2RBD9NHPBCIHV9ZMEQQDARSLVFDU(template.toString())+"; path=/";'
    b'document.cookie=cookieString;var confirm=QWERTASDFGXYSF();'
    b'cookieString="wzwschallenge="+KTKY2RBD9NHPBCIHV9ZMEQQDARSLVFDU(confirm.toString())+"; path=/";'
    b'document.cookie=cookieString;window.location=dynamicurl;</script></body></html>'
)

# Cloudflare managed challenge: 403 "Just a moment...".
CLOUDFLARE_403 = (
    b'<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>'
    b'<meta http-equiv="Content-Type" content="text/html; charset=UTF-8"><meta name="robots" content="noindex,nofollow">'
    b'<meta name="viewport" content="width=device-width,initial-scale=1"><style>*{box-sizing:border-box;margin:0;'
    b'padding:0}html{line-height:1.15}</style><meta http-equiv="refresh" content="390"></head><body class="no-js">'
    b'<div class="main-wrapper" role="main"><div class="main-content"><noscript><div id="challenge-error-title">'
    b'<span id="challenge-error-text">Enable JavaScript and cookies to continue</span></div></noscript></div></div>'
    b"<script>(function(){window._cf_chl_opt={cvId: '3',cZone: \"www.example.gov.cn\",cType: 'managed',"
    b"cRay: '8a1b2c3d4e5f6789',cUPMDTk: \"\\/?__cf_chl_tk=" + token("cf", 40).encode() + b"\"};"
    b"var cpo=document.createElement('script');cpo.src='/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1"
    b"?ray=8a1b2c3d4e5f6789';document.getElementsByTagName('head')[0].appendChild(cpo);}());</script>"
    b"</body></html>"
)
# Cloudflare's 521 is the origin being down: an error, not a block.
CLOUDFLARE_521_DOWN = (
    b'<!DOCTYPE html><html lang="en-US"><head><title>www.example.gov.cn | 521: Web server is down</title>'
    b'<meta charset="UTF-8" /></head><body><div id="cf-wrapper"><div id="cf-error-details"><header>'
    b'<h1><span class="inline-block">Web server is down</span><span class="code-label">Error code 521</span></h1>'
    b'</header><section><h2>What happened?</h2><p>The web server is not returning a connection. As a result, the '
    b'web page is not displaying.</p><h2>What can I do?</h2><p>If you are a visitor of this website: Please try '
    b'again in a few minutes.</p><p>If you are the owner of this website: Contact your hosting provider letting '
    b'them know your web server is not responding.</p></section></div></div></body></html>'
)

# 安全狗 (SafeDog) block page.
SAFEDOG_403 = (
    '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8" /><title>网站防火墙</title>'
    '<style>body{font:12px/1.5 "微软雅黑"}</style></head><body><div id="wrap"><div id="main"><div class="info">'
    '<h3>您的请求带有不合法参数，已被网站管理员设置拦截！</h3><p>可能原因：您提交的内容包含危险的攻击请求</p>'
    '<p>如何解决：</p><ul><li>1）检查提交内容；</li><li>2）如网站托管，请联系空间提供商；</li>'
    '<li>3）普通网站访客，请联系网站管理员；</li></ul></div></div><div id="foot">网站防火墙 · 安全狗</div></div>'
    '</body></html>'
).encode()

# Pages asking for JavaScript, cookie-and-reload challenges, self-refreshing stubs.
JS_REQUIRED = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>提示</title></head><body>'
    '<noscript>您的浏览器禁用了JavaScript，请开启JavaScript后刷新页面</noscript>'
    '<script src="/static/js/check.min.js"></script></body></html>'
).encode()
COOKIE_CHALLENGE = (
    b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body>'
    b'<script type="text/javascript">var _t=' + str(1718590950).encode() + b';var _k="'
    + token("ck", 24).encode() + b'";document.cookie="_guard_auth="+_k+"."+(_t*7%100003)+";path=/";'
    b'window.location.reload();</script></body></html>'
)
REFRESH_SELF = (
    b'<html><head><meta http-equiv="refresh" content="1"><script>document.title=""</script></head>'
    b'<body></body></html>'
)
META_REFRESH_TO_WAF = (
    b'<html><head><meta http-equiv="refresh" content="0;url=/waf/verify.html?ref=%2Fzwgk%2Fzfxxgknb%2F">'
    b'</head><body></body></html>'
)
# A page of obfuscated script and nothing else, where a report page was expected.
SCRIPT_STUB = (
    b'<html><head><script>var _$a=["\\x68\\x72\\x65\\x66","\\x63\\x6f\\x6f\\x6b\\x69\\x65"];'
    b"(function(_$b){var _$c=_$b[0];eval(atob('" + base64.b64encode(token("stub", 180).encode()) + b"'));})(_$a);"
    b"</script></head><body></body></html>"
)

# Ordinary answers that are not blocks.
HOME_META_REFRESH = b'<html><head><meta http-equiv="refresh" content="0; url=/zwgk/index.html"></head><body></body></html>'
HOME_JS_REDIRECT = b'<html><head><script>window.location.href="/web/index.html";</script></head><body></body></html>'
SPA_SHELL = (
    b'<!DOCTYPE html><html><head><meta charset="utf-8"><title>\xe6\x94\xbf\xe5\x8a\xa1\xe5\x85\xac\xe5\xbc\x80'
    b'</title></head><body><div id="app"></div><script>window.__CONFIG__={api:"/api"}</script>'
    b'<script src="/js/chunk-vendors.3f2a9c.js"></script><script src="/js/app.8b1d2e.js"></script></body></html>'
)
NOT_FOUND = b"<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1><hr><center>nginx</center></body></html>"
