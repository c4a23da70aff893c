"""Templates and an endpoint shared by the differential tests (Python renderer vs handlebars.js)."""

from __future__ import annotations

from typing import Any

ENDPOINT: dict[str, Any] = {
    "Id": "ep-1",
    "ChannelType": "EMAIL",
    "Address": "ana@example.com",
    "EndpointStatus": "ACTIVE",
    "OptOut": "NONE",
    "Attributes": {"Interests": ["shoes", "hats"], "Empty": [], "Plan Name": ["Gold & <Silver>"]},
    "User": {
        "UserId": "user-1",
        "UserAttributes": {
            "FirstName": ["Ana"],
            "Last Name": ['O\'Neil & "Sons" <Ltd> `=`'],
            "Points": ["1500"],
            "Tags": ["a", "b", "c"],
        },
    },
    "Metrics": {"Visits": 3, "Zero": 0, "Ratio": 1.5, "Big": 12345678},
    "Location": {"City": "Paris", "Country": "FR", "PostalCode": "75001"},
    "Demographic": {"Locale": "fr_FR", "Timezone": "Europe/Paris", "Platform": "ios"},
    "RecommendationItems": ["sku-1", "sku-2", "sku-3"],
    "Recommendations": {
        "Name": ["Trail <Runner>", "Sun Hat & Co", 'Wool "Socks"'],
        "Price": ["89.90", "25", "12.5"],
        "URL": ["https://shop.example/p/1?a=1&b=2", "https://shop.example/p/2", "https://shop.example/p/3"],
        "Badge": "New",
    },
    "Flags": {"yes": True, "no": False, "none": None, "object": {"a": 1}},
}

# Core Handlebars constructs: handlebars.js is the reference for every one of these.
CORE_TEMPLATES: list[str] = [
    "{{Address}} {{Id}} {{ChannelType}} {{User.UserId}}",
    "{{User.UserAttributes.FirstName.[0]}} {{User.UserAttributes.[Last Name].[0]}}",
    "{{Attributes.[Plan Name].[0]}} / {{{Attributes.[Plan Name].[0]}}} / {{& Attributes.[Plan Name].[0]}}",
    "{{Recommendations.Name.[0]}}|{{Recommendations.Name.[2]}}|{{Recommendations.Name.[3]}}|{{Recommendations.Badge}}",
    "{{RecommendationItems.[0]}} {{RecommendationItems.[4]}} {{RecommendationItems}}",
    '{{Recommendations.URL.[0]}} <a href="{{Recommendations.URL.[0]}}">x</a>',
    "missing: [{{Nope}}] [{{Nope.Deeper.[0]}}] [{{Attributes.Empty.[0]}}] [{{Location.Nope}}]",
    "{{Metrics.Visits}} {{Metrics.Zero}} {{Metrics.Ratio}} {{Metrics.Big}}",
    "{{Flags.yes}} {{Flags.no}} {{Flags.none}} {{Flags.object}} {{User.UserAttributes.Tags}}",
    "{{#each Recommendations.Name}}{{@index}}:{{this}}{{#if @first}} first{{/if}}{{#if @last}} last{{/if}};{{/each}}",
    "{{#each Recommendations.Name}}{{#unless @first}}, {{/unless}}{{this}}{{/each}}",
    "{{#each Attributes.Empty}}item{{else}}no items{{/each}}",
    "{{#each Nope}}item{{else}}nothing{{/each}}",
    "{{#each Location}}{{@key}}={{this}};{{/each}}",
    "{{#each Recommendations.Name as |name i|}}{{i}}={{name}} ({{lookup ../Recommendations.Price i}}) {{/each}}",
    "{{#each Recommendations.Name}}{{lookup ../Recommendations.URL @index}} {{../Address}}|{{/each}}",
    "{{#each RecommendationItems}}{{#each ../User.UserAttributes.Tags}}{{@../index}}{{this}} {{/each}}{{/each}}",
    "{{#if User.UserAttributes.FirstName.[0]}}Hi {{User.UserAttributes.FirstName.[0]}}{{else}}Hi there{{/if}}",
    "{{#if Nope}}a{{else if Metrics.Zero}}b{{else if Metrics.Visits}}c{{else}}d{{/if}}",
    "{{#if Nope}}a{{else if Attributes.Empty}}b{{else}}c{{/if}}",
    "{{#if Metrics.Zero}}zero is true{{else}}zero is false{{/if}} {{#if Metrics.Zero includeZero=true}}kept{{/if}}",
    "{{#if Flags.object}}object{{/if}} {{#if Flags.none}}none{{else}}no none{{/if}}",
    "{{#unless Flags.no}}unless-no{{/unless}} {{#unless Flags.yes}}x{{else}}unless-else{{/unless}}",
    "{{#with Location}}{{City}} ({{Country}}) {{../Address}}{{/with}}",
    "{{#with Nope}}x{{else}}no location{{/with}}",
    "{{#Location}}{{City}}{{/Location}} {{^Nope}}inverted{{/Nope}}",
    '{{lookup User.UserAttributes.Tags 2}} {{lookup Location "City"}} {{lookup Recommendations.Name 9}}',
    '{{#* inline "card"}}<li>{{this}}</li>{{/inline}}<ul>{{#each Recommendations.Name}}{{> card}}{{/each}}</ul>',
    '{{> late}}{{#*inline "late"}}defined after use{{/inline}}',
    'Top\n{{#* inline "row"}}\n  <tr><td>{{this}}</td></tr>\n{{/inline}}\n'
    "{{#each Recommendations.Name}}\n  {{> row}}\n{{/each}}\nEnd\n",
    "Line 1\n  {{#if Address}}\n  Hello\n  {{/if}}\nLine 5\n{{#each RecommendationItems}}\n- {{this}}\n{{/each}}\n",
    "{{!-- a comment with }} inside --}}A{{! short comment }}B",
    "\\{{Address}} and \\\\{{Address}}",
    "a {{~Address~}} b {{~#if Address~}} c {{~/if~}} d",
    "{{#if (lookup Recommendations.Name 1)}}second exists{{/if}}",
    "{{#each Recommendations.Price}}{{#if @last}}{{this}}{{/if}}{{/each}}",
    "{{Location.City}}{{Demographic.Locale}}{{Demographic.Timezone}}{{Location.PostalCode}}",
    "{{#if Address}}A{{^}}B{{/if}} {{#if Nope}}A{{ else }}B{{/if}}",
    "<ul>\r\n  {{#each Recommendations.Name}}\r\n  <li>{{this}}</li>\r\n  {{/each}}\r\n</ul>\r\n",
    '<table>\n  {{#each Recommendations.Name}}\n    {{> row}}\n  {{/each}}\n</table>\n{{#*inline "row"}}\n<tr>\n'
    "  <td>{{this}}</td>\n</tr>\n{{/inline}}",
    '{{#each Recommendations.Name}}{{#*inline "inner"}}[{{this}}]{{/inline}}{{> inner}}{{/each}}',
    "{{#each Recommendations.Name}}{{.}}{{#each ../RecommendationItems}}{{../this}}{{/each}}{{/each}}",
    '{{1}}|{{true}}|{{null}}|{{"literal"}}|{{Recommendations.[Name].[1]}}',
    "{{#with Location}}{{City}} {{@root.Address}}{{/with}}",
    "{{#> missing}}fallback {{Address}}{{/missing}}",
    "{{#unless Nope}}a{{else if Address}}b{{/unless}} {{#each Nope}}x{{else if Address}}addr{{/each}}",
    "{{#if (lookup Recommendations.Name 5)}}y{{else}}n{{/if}}",
    "{{ Address }} {{{ Address }}} {{~ Address ~}}",
    # Errors: both engines must refuse these.
    "{{> missing}}",
    "{{Address}}}",
    "{{#if Address}}never closed",
    "{{#each Address}}{{/if}}",
    "{{unknownHelper Address}}",
    "{{Address",
    "{{#if}}x{{/if}}",
]

# Pinpoint helpers with unambiguous semantics, mirrored in tests/oracle/render.js.
HELPER_TEMPLATES: list[str] = [
    "{{upper User.UserAttributes.FirstName.[0]}} {{lower Recommendations.Name.[0]}} {{upper Nope}}|{{lower Nope 'x'}}",
    "{{capitalizeFirst 'hello wORLD'}} {{capitalize 'hello wORLD  again'}} {{capitalize 'hello wORLD' fully=true}}",
    "{{cut 'a b c'}} {{cut 'banana' 'an'}} {{replace 'a-b-c' '-' '+'}} {{replace Recommendations.Name.[1] '&' 'and'}}",
    "{{stripTags '<p>Hi <b>there</b></p>'}} {{stripTags Recommendations.Name.[0]}}",
    "[{{center 'ab' size=7 pad='xy'}}] [{{ljust 'ab' size=5 pad='-'}}] "
    "[{{rjust 'ab' size=5}}] [{{center 'long' size=2}}]",
    "{{abbreviate 'Handlebars rocks' 13}} {{abbreviate 'short' 10}} {{abbreviate Recommendations.Name.[0] 8}}",
    "{{abbreviate 'Handlebars rocks' 3}}",
    "{{substring 'Handlebars.java' 11}} {{substring 'Handlebars.java' 0 10}}",
    "{{substring 'abc' 2 9}}",
    "{{join Recommendations.Name ', '}} {{join User.UserAttributes.Tags '/' prefix='[' suffix=']'}} "
    "{{join 'a' 'b' ' + '}}",
    "{{join Attributes.Empty ', '}}|{{join Nope ', '}}",
    "{{yesno Flags.yes}} {{yesno Flags.no yes='Y' no='N'}} {{yesno Nope}} {{yesno Nope maybe='?'}}",
    "{{yesno Address}}",
    "{{inflect 0 'item' 'items'}} {{inflect 1 'item' 'items' true}} "
    "{{inflect 2 'item' 'items' true}} {{inflect Metrics.Visits 'visit' 'visits' true}}",
    "{{ordinalize 1}} {{ordinalize 2}} {{ordinalize 3}} {{ordinalize 4}} {{ordinalize 11}} "
    "{{ordinalize 12}} {{ordinalize 13}} {{ordinalize 21}} {{ordinalize 102}} {{ordinalize 111}} "
    "{{ordinalize Metrics.Visits}}",
    "{{add 1 2}} {{add Recommendations.Price.[0] 10}} {{subtract 10 2.5}} "
    "{{multiply Metrics.Visits 4}} {{divide 10 4}} {{divide 10 5}}",
    "{{modulo 7 3}} {{modulo -7 3}} {{modulo 7.5 2}} {{ceiling 5.2}} {{floor 5.8}} {{floor -5.2}} "
    "{{round 2.5}} {{round -2.5}} {{round 2.49}}",
    "{{divide 5 2.3}} {{multiply 5 2.3}} {{add 5 2.3}} {{subtract 5 2.3}} {{divide 2 3}} {{modulo 7 2}}",
    "{{inflect 3 'apple' 'apples' includeCount=true}} [{{ljust Location.City 8}}] [{{rjust Location.City 8 pad='.'}}]"
    " {{yesno Flags.yes}}",
    "{{divide 1 0}}",
    "{{add Address 1}}",
    "{{encode64 'Hello, World ü'}} {{decode64 'SGVsbG8gV29ybGQ='}} {{encode64 Recommendations.Name.[0]}}",
    "{{md5 'Pinpoint'}} {{sha256 User.UserAttributes.FirstName.[0]}} {{sha512 ''}} {{uuid}}",
    "{{eq Metrics.Visits 3}} {{eq User.UserAttributes.Points.[0] 1500}} "
    "{{eq User.UserAttributes.Points.[0] '1500' yes='y' no='n'}}",
    "{{neq Metrics.Visits 4}} {{gt Metrics.Visits 2}} {{gte Metrics.Visits 3}} {{lt 'apple' 'banana'}} {{lte 3 2}}",
    "{{#eq Location.Country 'FR'}}France{{else}}elsewhere{{/eq}} {{#gt Metrics.Visits 5}}loyal{{else}}new{{/gt}}",
    "{{#and Address User.UserId}}both{{/and}} "
    "{{#or Nope Attributes.Empty}}any{{else}}neither{{/or}} {{#not Nope}}no nope{{/not}}",
    "{{and Address Metrics.Zero}} {{or Nope Metrics.Zero}} {{not Attributes.Empty}} "
    "{{and Address Nope yes='Y' no='N'}}",
    "{{gt User.UserAttributes.Points.[0] 1000}}",
    "{{#if (eq (add 1 2) Metrics.Visits)}}three{{/if}} {{upper (substring Address 0 3)}} "
    "{{#if (and (gt Metrics.Visits 1) (lt Metrics.Visits 5))}}in range{{/if}}",
    "{{#each Recommendations.Price}}{{#gt (multiply this 1) 20}}{{this}} is over 20; {{/gt}}{{/each}}",
    "{{dateFormat '2026-02-28T23:30:00Z'}} {{dateFormat '2026-02-28T23:30:00Z' 'full'}} "
    "{{dateFormat '2026-02-28T23:30:00Z' 'short' tz='America/Los_Angeles'}}",
    "{{dateFormat '2026-07-04' format='long'}} {{dateFormat '2026-07-04' 'long' 'fr_FR'}} "
    "{{dateFormat Nope}}|{{dateFormat Nope 'soon'}}",
    "{{now}} {{now 'full'}} {{now format='short' tz='Asia/Tokyo'}}",
]
