require 'net/http'
require 'uri'

uri = URI('https://api.example.com/v1/notes/n1')
request = Net::HTTP::Put.new(uri)
request['X-Trace'] = 't-1'
request.body =
  "line 1\r\n" +
  "\tline 2 'q' \"q\" \\ $x \#{y} `z` 100%\r\n" +
  "\e[0m \u{2028} é\r\n"

https = uri.scheme == 'https'
response = Net::HTTP.start(uri.hostname, uri.port, use_ssl: https) do |http|
  http.request(request)
end
puts "#{response.code} #{response.message}"
puts response.body