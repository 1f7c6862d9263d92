-- Fleet-wide reads of closed hours (the analytics efficiency alerts) select one range of hours across
-- every device. The primary keys lead with the device id, so without these such a read would scan
-- whole month partitions. INCLUDE makes them index-only for the sums the alerts need. Rows are written
-- once per device-hour (when an hour closes), so the upkeep is small.
CREATE INDEX vehicle_hourly_hour_idx ON vehicle_hourly (hour) INCLUDE (vehicle_id, kwh_delivered_dc_sum);
CREATE INDEX meter_hourly_hour_idx ON meter_hourly (hour) INCLUDE (meter_id, kwh_consumed_ac_sum);
