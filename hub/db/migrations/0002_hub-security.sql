CREATE TABLE `device_jtis` (
	`device_id` text NOT NULL,
	`jti` text NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`device_id`, `jti`)
);
--> statement-breakpoint
CREATE INDEX `device_jtis_by_expiry` ON `device_jtis` (`expires_at`);--> statement-breakpoint
CREATE TABLE `share_blocks` (
	`share` text NOT NULL,
	`hash` text NOT NULL,
	`seen_at` integer NOT NULL,
	PRIMARY KEY(`share`, `hash`)
);
--> statement-breakpoint
CREATE INDEX `share_blocks_by_hash` ON `share_blocks` (`hash`);--> statement-breakpoint
ALTER TABLE `members` ADD `last_error_at` integer;--> statement-breakpoint
ALTER TABLE `shares` ADD `held_delete_device` text;--> statement-breakpoint
ALTER TABLE `shares` ADD `held_deletes` integer;--> statement-breakpoint
ALTER TABLE `shares` ADD `held_live` integer;--> statement-breakpoint
ALTER TABLE `shares` ADD `held_at` integer;--> statement-breakpoint
ALTER TABLE `shares` ADD `delete_confirmed_until` integer;--> statement-breakpoint
INSERT OR IGNORE INTO `share_blocks` (`share`, `hash`, `seen_at`) SELECT e.`share`, j.value, e.`updated_at` FROM `entries` e, json_each(e.`blocks`) j WHERE e.`type` = 'file';
