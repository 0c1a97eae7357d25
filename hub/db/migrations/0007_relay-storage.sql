CREATE TABLE `relay_wants` (
	`share` text NOT NULL,
	`hash` text NOT NULL,
	`device_id` text NOT NULL,
	`asked_at` integer NOT NULL,
	PRIMARY KEY(`share`, `hash`, `device_id`)
);
--> statement-breakpoint
CREATE INDEX `relay_wants_by_device` ON `relay_wants` (`device_id`);--> statement-breakpoint
ALTER TABLE `shares` ADD `storage` text DEFAULT 'full' NOT NULL;