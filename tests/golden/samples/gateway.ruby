# Secrets are read from environment variables:
#   OCP_APIM_SUBSCRIPTION_KEY: your subscription key, in the Ocp-Apim-Subscription-Key header
require 'net/http'
require 'uri'

uri = URI('https://portal.example.com/gateway/keyed/v1/items/a%20b%2Fc?mode=fast%20%26%20safe')
request = Net::HTTP::Post.new(uri)
request['Content-Type'] = 'application/json'
request['Ocp-Apim-Subscription-Key'] = ENV.fetch('OCP_APIM_SUBSCRIPTION_KEY')
request['X-Trace'] = 't-1'
request.body = '{"name": "it\'s", "count": 1}
'

https = uri.scheme == 'https'
response = Net::HTTP.start(uri.hostname, uri.port, use_ssl: https) do |http|
  http.request(request)
end
puts "#{response.code} #{response.message}"
puts response.body