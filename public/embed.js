/* Lianxin embed loader: one script tag puts the 12345 report widget on any page.
 *   <script src="https://lianxin.example/embed.js" data-category="taxi_overcharge"
 *           data-department="transport" data-lang="en" data-mode="inline|button"></script>
 * The widget runs in an iframe from its own origin (the host page must be one of the
 * server's LIANXIN_ALLOWED_ORIGINS), grows to fit its content, and the host is told when a
 * report was filed: document.addEventListener('lianxin:submitted', e => e.detail.tracking_no). */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script) return;
  var origin = new URL(script.src, location.href).origin;
  var data = script.dataset;
  var query = new URLSearchParams();
  ['category', 'department', 'lang'].forEach(function (key) { if (data[key]) query.set(key, data[key]); });
  query.set('embed', location.origin);
  var frame = document.createElement('iframe');
  frame.src = origin + '/?' + query.toString();
  frame.title = data.title || '12345';
  frame.setAttribute('allow', 'geolocation');
  frame.setAttribute('loading', 'lazy');
  frame.style.cssText = 'display:block;width:100%;min-height:420px;border:0;';
  window.addEventListener('message', function (event) {
    if (event.origin !== origin || event.source !== frame.contentWindow) return;
    var message = event.data || {};
    if (message.type === 'lianxin:height' && message.height > 0) frame.style.height = Math.ceil(message.height) + 'px';
    if (message.type === 'lianxin:submitted') {
      script.dispatchEvent(new CustomEvent('lianxin:submitted', { bubbles: true, detail: { tracking_no: message.tracking_no } }));
    }
  });
  if (data.mode !== 'button') {
    script.parentNode.insertBefore(frame, script.nextSibling);
    return;
  }
  var button = document.createElement('button');
  button.type = 'button';
  button.textContent = data.label || '12345 反映问题 · Report a problem';
  button.style.cssText = 'position:fixed;right:1rem;bottom:1rem;z-index:2147483000;min-height:48px;padding:0 1.25rem;border:0;border-radius:24px;background:#c8102e;color:#fff;font:600 1rem system-ui,sans-serif;box-shadow:0 2px 8px rgba(0,0,0,.3);';
  var dialog = document.createElement('dialog');
  dialog.setAttribute('aria-label', frame.title);
  dialog.style.cssText = 'width:min(40rem,100vw);max-height:100vh;padding:0;border:0;border-radius:12px;';
  var close = document.createElement('button');
  close.type = 'button';
  close.textContent = '×';
  close.setAttribute('aria-label', 'Close / 关闭 / Закрыть');
  close.style.cssText = 'position:sticky;top:0;float:right;width:48px;height:48px;border:0;background:transparent;font-size:1.5rem;';
  close.addEventListener('click', function () { dialog.close(); button.focus(); });
  dialog.appendChild(close);
  dialog.appendChild(frame);
  button.addEventListener('click', function () { dialog.showModal(); });
  document.body.appendChild(button);
  document.body.appendChild(dialog);
})();
