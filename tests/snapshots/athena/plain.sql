SELECT eventsource, eventname, eventtype, errorcode, errormessage,
       useridentity.type AS identity_type, useridentity.arn AS arn,
       useridentity.sessioncontext.sessionissuer.arn AS issuer_arn,
       count(*) AS calls, min(eventtime) AS first_seen, max(eventtime) AS last_seen
FROM "logs"."trail"
WHERE (errorcode IS NULL OR errorcode = '')
  AND (eventtype IS NULL OR eventtype = 'AwsApiCall')
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
ORDER BY 1, 2, 4, 7
