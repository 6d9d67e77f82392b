-- 050_demo_persons.sql -- demo insured persons (参保人) for development and
-- tests. FICTITIOUS people: the ID numbers are made up but carry a valid
-- GB 11643-1999 check digit; the first 6 digits are the region code, digits
-- 7-14 the birth date, digit 17 odd = male. Same list in demo_persons.md.
-- Reference data: idempotent, run in name order inside one transaction.
--
--   name    id_number           phone        region                sex birth       insurance
--   张建国  411200195803120139  13800000001  411200 三门峡市        M   1958-03-12  employee
--   王秀兰  41120019621105016X  13800000002  411200 三门峡市        F   1962-11-05  resident
--   李志强  140100197107210154  13800000003  140100 太原市          M   1971-07-21  employee
--   赵桂英  140100195501300124  13800000004  140100 太原市          F   1955-01-30  resident
--   刘海涛  370800198009090131  13800000005  370800 济宁市          M   1980-09-09  employee
--   陈玉梅  630100196704180127  13800000006  630100 西宁市          F   1967-04-18  resident
--   马德明  63010019491202017X  13800000007  630100 西宁市          M   1949-12-02  employee
--   杨丽华  532300197506270141  13800000008  532300 楚雄州（禄丰市）F   1975-06-27  resident
--   祁永福  630200195808150134  13800000009  630200 海东市          M   1958-08-15  resident
--   李秀珍  532300196203040125  13800000010  532300 楚雄州（禄丰市）F   1962-03-04  employee
--   王桂花  140100195006110147  13800000011  140100 太原市          F   1950-06-11  resident
--   韩志军  630100197209090153  13800000012  630100 西宁市          M   1972-09-09  employee

INSERT INTO persons (id_number, name, sex, birth_date, phone, insurance,
                     region) VALUES
('411200195803120139', '张建国', 'M', '1958-03-12', '13800000001', 'employee', '411200'),
('41120019621105016X', '王秀兰', 'F', '1962-11-05', '13800000002', 'resident', '411200'),
('140100197107210154', '李志强', 'M', '1971-07-21', '13800000003', 'employee', '140100'),
('140100195501300124', '赵桂英', 'F', '1955-01-30', '13800000004', 'resident', '140100'),
('370800198009090131', '刘海涛', 'M', '1980-09-09', '13800000005', 'employee', '370800'),
('630100196704180127', '陈玉梅', 'F', '1967-04-18', '13800000006', 'resident', '630100'),
('63010019491202017X', '马德明', 'M', '1949-12-02', '13800000007', 'employee', '630100'),
('532300197506270141', '杨丽华', 'F', '1975-06-27', '13800000008', 'resident', '532300'),
('630200195808150134', '祁永福', 'M', '1958-08-15', '13800000009', 'resident', '630200'),
('532300196203040125', '李秀珍', 'F', '1962-03-04', '13800000010', 'employee', '532300'),
('140100195006110147', '王桂花', 'F', '1950-06-11', '13800000011', 'resident', '140100'),
('630100197209090153', '韩志军', 'M', '1972-09-09', '13800000012', 'employee', '630100')
ON CONFLICT (id_number) DO UPDATE
    SET name = EXCLUDED.name, sex = EXCLUDED.sex,
        birth_date = EXCLUDED.birth_date, phone = EXCLUDED.phone,
        insurance = EXCLUDED.insurance, region = EXCLUDED.region
    WHERE (persons.name, persons.sex, persons.birth_date, persons.phone,
           persons.insurance, persons.region)
          IS DISTINCT FROM
          (EXCLUDED.name, EXCLUDED.sex, EXCLUDED.birth_date,
           EXCLUDED.phone, EXCLUDED.insurance, EXCLUDED.region);
