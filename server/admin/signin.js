// Sign-in: the app id and secret (traded for a 1 h operator token), or an operator token.
// The inputs have no `name` and the forms no action of their own: were this script not to run,
// a browser would have nothing to submit, so a secret can never end up in a URL.
import { signIn, signInWithToken } from './api.js';
import { errorBox, h } from './dom.js';
import { t } from './i18n.js';
import { describe } from './view.js';

export function signInView(root, { reason, onSignedIn, languageSwitch }) {
  const appId = h('input', { id: 'app-id', type: 'text', required: true, maxlength: 64, autocomplete: 'username', spellcheck: 'false' });
  const secret = h('input', { id: 'app-secret', type: 'password', required: true, maxlength: 256, autocomplete: 'off' });
  const token = h('textarea', { id: 'operator-token', required: true, rows: 4, maxlength: 4096, spellcheck: 'false', autocomplete: 'off' });
  const message = h('div', { class: 'message', 'aria-live': 'assertive' }, reason ? errorBox(reason) : null);

  const busy = (form, on) => {
    for (const el of form.querySelectorAll('button, input, textarea')) el.disabled = on;
  };
  const attempt = async (form, run) => {
    message.replaceChildren();
    busy(form, true);
    try {
      await run();
      onSignedIn();
    } catch (err) {
      message.replaceChildren(errorBox(describe(err)));
    } finally {
      // The secret is gone from the page as soon as it was used, right or wrong.
      secret.value = '';
      token.value = '';
      busy(form, false);
    }
  };

  const secretForm = h(
    'form',
    { class: 'signin-form', method: 'post', 'data-role': 'secret-form' },
    h('label', { for: 'app-id' }, t('signin.appId')),
    appId,
    h('label', { for: 'app-secret' }, t('signin.appSecret')),
    secret,
    h('button', { type: 'submit', class: 'primary' }, t('signin.submit')),
  );
  secretForm.addEventListener('submit', (e) => {
    e.preventDefault();
    void attempt(secretForm, () => signIn(appId.value.trim(), secret.value));
  });

  const tokenForm = h(
    'form',
    { class: 'signin-form', method: 'post', 'data-role': 'token-form' },
    h('label', { for: 'operator-token' }, t('signin.token')),
    token,
    h('button', { type: 'submit' }, t('signin.useToken')),
  );
  tokenForm.addEventListener('submit', (e) => {
    e.preventDefault();
    void attempt(tokenForm, () => signInWithToken(token.value.trim()));
  });

  root.replaceChildren(
    h(
      'main',
      { class: 'signin' },
      h('div', { class: 'signin-head' }, h('h1', null, t('app.name')), languageSwitch()),
      h('p', { class: 'hint' }, t('signin.hint')),
      message,
      secretForm,
      h('details', null, h('summary', null, t('signin.orToken')), h('p', { class: 'hint' }, t('signin.tokenHint')), tokenForm),
    ),
  );
  appId.focus();
}
