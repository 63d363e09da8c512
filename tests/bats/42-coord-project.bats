#!/usr/bin/env bats
# coord-project (SPEC §6.2): the local projects that always win resolution (§4.3, D9).

load ../helpers/coord


cp_() { run "$COORD_BUILD_DIR/bin/coord-project" "$@"; }

uuid_re='^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'

@test "register without --uuid stores a new v4 uuid, prints it, and drops the cached uuid" {
	coord_redis SET project_by_uuid:alice.near/app stale-uuid >/dev/null
	cp_ register --project-id alice.near/app --active-version v1 --note "first"
	assert_success
	[[ $output =~ $uuid_re ]]
	assert_equal "$(coord_psql "SELECT uuid || ' ' || active_version || ' ' || note FROM local_projects WHERE project_id = 'alice.near/app'")" "$output v1 first"
	assert_equal "$(coord_redis EXISTS project_by_uuid:alice.near/app)" 0
}

@test "re-registering keeps the uuid and the values not given; --uuid replaces it" {
	cp_ register --project-id bob.near/tool --active-version v1
	assert_success
	first=$output
	cp_ register --project-id bob.near/tool --note later
	assert_success
	assert_output "$first"
	assert_equal "$(coord_psql "SELECT active_version || ' ' || note FROM local_projects WHERE project_id = 'bob.near/tool'")" "v1 later"

	cp_ register --project-id bob.near/tool --uuid 00000000-0000-4000-8000-00000000000A --json
	assert_success
	assert_output '{"project_id":"bob.near/tool","uuid":"00000000-0000-4000-8000-00000000000a"}'
	assert_equal "$(coord_psql "SELECT uuid FROM local_projects WHERE project_id = 'bob.near/tool'")" 00000000-0000-4000-8000-00000000000a
}

@test "a uuid that belongs to another project is refused with 65 and changes nothing" {
	cp_ register --project-id carol.near/a --uuid 00000000-0000-4000-8000-0000000000aa
	assert_success
	cp_ register --project-id carol.near/b --uuid 00000000-0000-4000-8000-0000000000aa
	assert_failure 65
	assert_output --partial "already belongs to another project"
	assert_equal "$(coord_psql "SELECT count(*) FROM local_projects WHERE project_id = 'carol.near/b'")" 0
}

@test "bad arguments: 64 for usage, 65 for values, before touching the database" {
	cp_ register
	assert_failure 64
	cp_ frobnicate
	assert_failure 64
	cp_ list --project-id a/b
	assert_failure 64
	cp_ remove --project-id a/b --uuid x
	assert_failure 64
	for bad in noslash /name owner/ "$(printf 'o%.0s' {1..65})/n" "o/$(printf 'n%.0s' {1..129})" $'a/b\tc'; do
		cp_ register --project-id "$bad"
		assert_failure 65
	done
	cp_ register --project-id a/b --uuid ""
	assert_failure 65
	for bad in not-a-uuid 00000000-0000-4000-8000-00000000000 '{00000000-0000-4000-8000-000000000000}'; do
		cp_ register --project-id a/b --uuid "$bad"
		assert_failure 65
	done
	assert_equal "$(coord_psql "SELECT count(*) FROM local_projects WHERE project_id = 'a/b'")" 0
}

@test "list prints every local project, as text and as JSON" {
	coord_psql "DELETE FROM local_projects"
	cp_ register --project-id zed.near/x --uuid 00000000-0000-4000-8000-00000000000f --active-version v9
	cp_ register --project-id amy.near/y/sub --uuid 00000000-0000-4000-8000-00000000000a
	cp_ list
	assert_success
	assert_line --index 0 $'PROJECT\tUUID\tACTIVE_VERSION\tUPDATED\tNOTE'
	assert_line --index 1 --regexp $'^amy\\.near/y/sub\t00000000-0000-4000-8000-00000000000a\t-\t[0-9T:.-]+Z\t-$'
	assert_line --index 2 --regexp $'^zed\\.near/x\t00000000-0000-4000-8000-00000000000f\tv9\t'
	cp_ list --json
	assert_success
	assert_equal "$(jq -c '[.[] | [.project_id, .uuid, .active_version, .note]]' <<<"$output")" \
		'[["amy.near/y/sub","00000000-0000-4000-8000-00000000000a","",null],["zed.near/x","00000000-0000-4000-8000-00000000000f","v9",null]]'
}

@test "remove deletes the row and the cached uuid; an unknown project is 65" {
	cp_ register --project-id dan.near/app --uuid 00000000-0000-4000-8000-00000000000d
	coord_redis SET project_by_uuid:dan.near/app 00000000-0000-4000-8000-00000000000d >/dev/null
	cp_ remove --project-id dan.near/app
	assert_success
	assert_output "removed dan.near/app"
	assert_equal "$(coord_psql "SELECT count(*) FROM local_projects WHERE project_id = 'dan.near/app'")" 0
	assert_equal "$(coord_redis EXISTS project_by_uuid:dan.near/app)" 0
	cp_ remove --project-id dan.near/app
	assert_failure 65
}

@test "Redis down: register still succeeds and warns that the cache was not dropped" {
	coord_stop_redis
	cp_ register --project-id eve.near/app --uuid 00000000-0000-4000-8000-00000000000e
	coord_start_redis
	assert_success
	assert_line "00000000-0000-4000-8000-00000000000e"
	assert_line --partial "warning: cannot drop the cached uuid of eve.near/app"
}
