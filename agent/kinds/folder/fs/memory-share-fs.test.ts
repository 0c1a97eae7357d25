import { createMemoryShareFs } from "./memory-share-fs.ts";
import { describeShareFsContract } from "./share-fs.contract.ts";

describeShareFsContract("in-memory fake", async () => ({ fs: createMemoryShareFs(), outside: "/etc" }));
