/** @jsxImportSource hono/jsx */
// The login form: the admin token, posted as `token`.
import { Notice } from "../layout.tsx";

export function LoginPage(props: { error?: string; notice?: string }) {
  return (
    <>
      <h1>Log in</h1>
      <Notice text={props.error} bad />
      <Notice text={props.notice} />
      <form method="post" action="/login" class="actions">
        <label>
          admin token
          <input type="password" name="token" autocomplete="current-password" required autofocus size={40} />
        </label>
        <button type="submit">Log in</button>
      </form>
      <p class="muted">
        The admin token is in DATA/admin.token on the hub machine (on Workers: the ADMIN_TOKEN secret).
      </p>
    </>
  );
}
