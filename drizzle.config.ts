// drizzle-kit configuration: `npm run db:generate` writes SQL migrations from hub/db/schema.ts.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./hub/db/schema.ts",
  out: "./hub/db/migrations",
});
