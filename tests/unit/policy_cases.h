/* policy_cases.h - policy documents and whether they are valid, shared by
 * test_sn_policy.c (the sensor's parser, sensor-blob/policy.c) and
 * test_policy_build.c (inlay's, rewriter/policy.c): the two must accept
 * exactly the same documents, so both run this one table. error_part is a
 * piece of the error message both must give (the field), NULL when valid. */
#ifndef INLAY_TEST_POLICY_CASES_H
#define INLAY_TEST_POLICY_CASES_H

struct policy_case {
	const char *json;
	const char *error_part;
};

static const struct policy_case policy_cases[] = {
    /* valid */
    {"{}", NULL},
    {"{\"exec\":{}}", NULL},
    {"{\"exec\":{\"allow\":[]}}", NULL},
    {"{\"exec\":{\"allow\":[\"/usr/bin/python3\",\"/bin/busybox[cat]\"],\"drift\":\"block\"}}",
     NULL},
    {"{\"exec\":{\"drift\":\"alert\"}}", NULL},
    {"{\"exec\":{\"allow\":[\"/opt/app/bin/*\",\"/usr/bin/python3.?\",\"/bin/busybox[*]\"]}}", NULL},
    {"{\"exec\":{\"allow\":[\"/usr/bin/\\\\[\",\"/bin/busybox[\\\\[]\",\"/a\\\\*b[c\\\\]d]\"]}}", NULL},
    {"{\"exec\":{\"allow\":[\"/opt/../bin/sh\",\"/\\u00e9t\\u00e9\"]}}", NULL},
    {"{\"net\":{\"listen\":[\"tcp:8080\",\"udp:53\",\"tcp:*\",\"udp:00053\",\"tcp:65535\"]}}",
     NULL},
    {"{\"net\":{\"connect\":[\"10.0.0.0/8:5432\",\"192.168.1.10:443\",\"[fd00::/8]:443\","
     "\"*:53\",\"10.1.2.3:*\",\"*:*\",\"0.0.0.0/0:1\",\"[::]:1\",\"[::ffff:10.0.0.0/104]:80\","
     "\"[1:2:3:4:5:6:7::]:9\",\"[::1.2.3.4]:9\",\"[FD00::ABCD/128]:9\"]}}",
     NULL},
    {"{\"net\":{},\"files\":{}}", NULL},
    {"{\"files\":{\"write\":[\"/tmp/\",\"/var/log/app/\",\"/\",\"/data\",\"/a//b/./c\"]}}", NULL},
    {"{\"exec\":{\"allow\":[\"/bin/sh\"]},\"net\":{\"listen\":[],\"connect\":[]},"
     "\"files\":{\"write\":[]}}",
     NULL},

    /* not a policy */
    {"[]", "JSON object"},
    {"{\"network\":{}}", "unknown key 'network'"},
    {"{\"exec\":[]}", "exec"},
    {"{\"exec\":null}", "exec"},
    {"{\"net\":\"tcp:80\"}", "net"},
    {"{\"files\":[]}", "files"},
    {"{\"exec\":{\"alow\":[]}}", "unknown key 'alow'"},
    {"{\"net\":{\"bind\":[]}}", "unknown key 'bind'"},
    {"{\"files\":{\"read\":[]}}", "unknown key 'read'"},

    /* exec */
    {"{\"exec\":{\"allow\":\"/bin/sh\"}}", "exec.allow"},
    {"{\"exec\":{\"allow\":null}}", "exec.allow"},
    {"{\"exec\":{\"allow\":[1]}}", "exec.allow[0]"},
    {"{\"exec\":{\"allow\":[\"bin/sh\"]}}", "exec.allow[0]"},
    {"{\"exec\":{\"allow\":[\"\"]}}", "exec.allow[0]"},
    {"{\"exec\":{\"allow\":[\"/\"]}}", "exec.allow[0]"},
    {"{\"exec\":{\"allow\":[\"/bin/\"]}}", "exec.allow[0]"},
    {"{\"exec\":{\"allow\":[\"/bin//sh\"]}}", "exec.allow[0]"},
    {"{\"exec\":{\"allow\":[\"/bin/./sh\"]}}", "exec.allow[0]"},
    {"{\"exec\":{\"allow\":[\"/bin/sh/.\"]}}", "exec.allow[0]"},
    {"{\"exec\":{\"allow\":[\"/bin/sh\",\"/bin/busybox[cat\"]}}", "exec.allow[1]"},
    {"{\"exec\":{\"allow\":[\"/bin/busybox[]\"]}}", "exec.allow[0]"},
    {"{\"exec\":{\"allow\":[\"/bin/busybox[a]b\"]}}", "exec.allow[0]"},
    {"{\"exec\":{\"allow\":[\"/bin/busybox[a][b]\"]}}", "exec.allow[0]"},
    {"{\"exec\":{\"allow\":[\"/bin/busybox[a[b]\"]}}", "exec.allow[0]"},
    {"{\"exec\":{\"allow\":[\"/bin/busybox[a/b]\"]}}", "exec.allow[0]"},
    {"{\"exec\":{\"allow\":[\"/opt/[ab]/x\"]}}", "exec.allow[0]"},
    {"{\"exec\":{\"allow\":[\"/opt/a]b\"]}}", "exec.allow[0]"},
    {"{\"exec\":{\"allow\":[\"/opt/a\\\\\"]}}", "exec.allow[0]"},
    {"{\"exec\":{\"allow\":[\"/opt\\\\/a\"]}}", "exec.allow[0]"},
    {"{\"exec\":{\"allow\":[\"/bin/busybox[cat\\\\]\"]}}", "exec.allow[0]"},
    {"{\"exec\":{\"drift\":\"maybe\"}}", "exec.drift"},
    {"{\"exec\":{\"drift\":true}}", "exec.drift"},
    {"{\"exec\":{\"drift\":null}}", "exec.drift"},

    /* net.listen */
    {"{\"net\":{\"listen\":[\"tcp:0\"]}}", "net.listen[0]"},
    {"{\"net\":{\"listen\":[\"tcp:65536\"]}}", "net.listen[0]"},
    {"{\"net\":{\"listen\":[\"tcp:000080\"]}}", "net.listen[0]"},
    {"{\"net\":{\"listen\":[\"sctp:80\"]}}", "net.listen[0]"},
    {"{\"net\":{\"listen\":[\"TCP:80\"]}}", "net.listen[0]"},
    {"{\"net\":{\"listen\":[\"tcp:80\",\"tcp:8x\"]}}", "net.listen[1]"},
    {"{\"net\":{\"listen\":[\"tcp:\"]}}", "net.listen[0]"},
    {"{\"net\":{\"listen\":[\"tcp:+80\"]}}", "net.listen[0]"},
    {"{\"net\":{\"listen\":[\"80\"]}}", "net.listen[0]"},

    /* net.connect */
    {"{\"net\":{\"connect\":[\"10.0.0.0/33:5432\"]}}", "net.connect[0]"},
    {"{\"net\":{\"connect\":[\"10.0.0.0/8\"]}}", "net.connect[0]"},
    {"{\"net\":{\"connect\":[\"10.0.0.0/:80\"]}}", "net.connect[0]"},
    {"{\"net\":{\"connect\":[\"10.0.0.0/+8:80\"]}}", "net.connect[0]"},
    {"{\"net\":{\"connect\":[\"10.0.0.0/ 8:80\"]}}", "net.connect[0]"},
    {"{\"net\":{\"connect\":[\"10.0.0.0/0008:80\"]}}", "net.connect[0]"},
    {"{\"net\":{\"connect\":[\"example.com:443\"]}}", "net.connect[0]"},
    {"{\"net\":{\"connect\":[\"[::1:443\"]}}", "net.connect[0]"},
    {"{\"net\":{\"connect\":[\"fd00::1:443\"]}}", "net.connect[0]"},
    {"{\"net\":{\"connect\":[\"[10.0.0.1]:443\"]}}", "net.connect[0]"},
    {"{\"net\":{\"connect\":[\"[fd00::/129]:443\"]}}", "net.connect[0]"},
    {"{\"net\":{\"connect\":[\"[*]:443\"]}}", "net.connect[0]"},
    {"{\"net\":{\"connect\":[\"[]:443\"]}}", "net.connect[0]"},
    {"{\"net\":{\"connect\":[\"010.0.0.1:443\"]}}", "net.connect[0]"},
    {"{\"net\":{\"connect\":[\"10.0.0:443\"]}}", "net.connect[0]"},
    {"{\"net\":{\"connect\":[\"10.0.0.256:443\"]}}", "net.connect[0]"},
    {"{\"net\":{\"connect\":[\"[1::2::3]:443\"]}}", "net.connect[0]"},
    {"{\"net\":{\"connect\":[\"[1:2:3:4:5:6:7:8::]:443\"]}}", "net.connect[0]"},
    {"{\"net\":{\"connect\":[\"[fe80::1%eth0]:443\"]}}", "net.connect[0]"},
    {"{\"net\":{\"connect\":[\"10.0.0.1:0\"]}}", "net.connect[0]"},
    {"{\"net\":{\"connect\":[\":443\"]}}", "net.connect[0]"},
    {"{\"net\":{\"connect\":[\"**:443\"]}}", "net.connect[0]"},

    /* files.write */
    {"{\"files\":{\"write\":[\"tmp/\"]}}", "files.write[0]"},
    {"{\"files\":{\"write\":[\"\"]}}", "files.write[0]"},
    {"{\"files\":{\"write\":[\"/tmp/../etc/\"]}}", "files.write[0]"},
    {"{\"files\":{\"write\":[\"/var/..\"]}}", "files.write[0]"},
    {"{\"files\":{\"write\":[\"/..\"]}}", "files.write[0]"},

    /* JSON both parsers refuse */
    {"{\"exec\":{}, \"exec\":{}}", "duplicate"},
    {"{\"exec\":", "JSON"},
    {"{\"exec\":{\"allow\":[\"/bin/sh\\u0000x\"]}}", "NUL"},
};

#define POLICY_CASES (sizeof(policy_cases) / sizeof(policy_cases[0]))

#endif
