/** @jsxImportSource hono/jsx */
// A refused dashboard action: the same message the CLI would print, and a way back.
import { Notice } from "../layout.tsx";

export function ErrorPage(props: { message: string; back: string }) {
  return (
    <>
      <h1>That did not work</h1>
      <Notice text={props.message} bad />
      <p>
        <a href={props.back}>Back</a>
      </p>
    </>
  );
}
